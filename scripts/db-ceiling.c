/* scripts/db-ceiling: the database-only ceiling of a read endpoint (scripts/bench).
 *
 *   db-ceiling SOCKET USER PASSWORD DATABASE SECONDS THREADS STATEMENTS_FILE
 *
 * STATEMENTS_FILE holds the statements one request runs, each as two lines: the SQL exactly
 * as the service prepared it (from the server's general log), then its parameters,
 * tab-separated, each `i:INTEGER` or `s:TEXT`. Each of THREADS threads opens its own
 * connection, prepares every statement once, binds its parameters, then executes them back
 * to back, fetching every row of every result into bound buffers, for SECONDS. Prints
 * "PAGES_PER_SECOND ROWS_PER_PAGE": what a client that did nothing but talk to MariaDB
 * could serve, over the same connections per core.
 */
#include <mysql.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_STATEMENTS = 16, MAX_COLUMNS = 64, MAX_PARAMETERS = 512, BUFFER = 65536 };

static const char *socket_path, *user, *password, *database;
static double seconds;
static char *sql[MAX_STATEMENTS];
static char *parameters[MAX_STATEMENTS];
static int statement_count;

/* Binds "i:1\ts:text…" (parsed into storage the binds point at). */
static int bind_parameters(MYSQL_STMT *statement, char *text, MYSQL_BIND *binds, long long *integers) {
    int count = 0;
    char *rest = NULL;  /* strtok_r: every thread parses its own copy at once */
    for (char *field = strtok_r(text, "\t", &rest); field && count < MAX_PARAMETERS; field = strtok_r(NULL, "\t", &rest)) {
        memset(&binds[count], 0, sizeof binds[count]);
        if (field[0] == 'i' && field[1] == ':') {
            integers[count] = atoll(field + 2);
            binds[count].buffer_type = MYSQL_TYPE_LONGLONG;
            binds[count].buffer = &integers[count];
        } else if (field[0] == 's' && field[1] == ':') {
            binds[count].buffer_type = MYSQL_TYPE_STRING;
            binds[count].buffer = field + 2;
            binds[count].buffer_length = strlen(field + 2);
        } else {
            return -1;
        }
        count++;
    }
    if ((unsigned long)count != mysql_stmt_param_count(statement)) return -1;
    return count == 0 ? 0 : (mysql_stmt_bind_param(statement, binds) == 0 ? 0 : -1);
}

struct result { long pages; long rows_per_page; int failed; };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void *run(void *argument) {
    struct result *result = argument;
    MYSQL *mysql = mysql_init(NULL);
    if (!mysql_real_connect(mysql, NULL, user, password, database, 0, socket_path, 0)) {
        fprintf(stderr, "db-ceiling: connect: %s\n", mysql_error(mysql));
        result->failed = 1;
        return NULL;
    }
    /* The session the service opens (Database.connect's init command in Sources/MariaDB). */
    mysql_query(mysql, "SET time_zone = '+00:00', NAMES utf8mb4 COLLATE utf8mb4_unicode_ci, eq_range_index_dive_limit = 10");
    MYSQL_STMT *statements[MAX_STATEMENTS];
    static __thread MYSQL_BIND parameter_binds[MAX_STATEMENTS][MAX_PARAMETERS];
    static __thread long long integers[MAX_STATEMENTS][MAX_PARAMETERS];
    for (int i = 0; i < statement_count; i++) {
        statements[i] = mysql_stmt_init(mysql);
        char *text = strdup(parameters[i]);
        if (mysql_stmt_prepare(statements[i], sql[i], strlen(sql[i])) != 0 ||
            bind_parameters(statements[i], text, parameter_binds[i], integers[i]) != 0) {
            fprintf(stderr, "db-ceiling: prepare or bind: %s\n", mysql_stmt_error(statements[i]));
            result->failed = 1;
            return NULL;
        }
    }
    static __thread char buffers[MAX_COLUMNS][BUFFER];
    unsigned long lengths[MAX_COLUMNS];
    my_bool nulls[MAX_COLUMNS];
    double deadline = now() + seconds;
    while (now() < deadline) {
        long rows = 0;
        for (int i = 0; i < statement_count; i++) {
            MYSQL_STMT *statement = statements[i];
            if (mysql_stmt_execute(statement) != 0 || mysql_stmt_store_result(statement) != 0) {
                fprintf(stderr, "db-ceiling: execute: %s\n", mysql_stmt_error(statement));
                result->failed = 1;
                return NULL;
            }
            unsigned columns = mysql_stmt_field_count(statement);
            MYSQL_BIND binds[MAX_COLUMNS];
            memset(binds, 0, sizeof binds);
            for (unsigned c = 0; c < columns && c < MAX_COLUMNS; c++) {
                binds[c].buffer_type = MYSQL_TYPE_STRING;
                binds[c].buffer = buffers[c];
                binds[c].buffer_length = BUFFER;
                binds[c].length = &lengths[c];
                binds[c].is_null = &nulls[c];
            }
            mysql_stmt_bind_result(statement, binds);
            while (mysql_stmt_fetch(statement) != MYSQL_NO_DATA) rows++;
            mysql_stmt_free_result(statement);
        }
        result->pages++;
        result->rows_per_page = rows;
    }
    for (int i = 0; i < statement_count; i++) mysql_stmt_close(statements[i]);
    mysql_close(mysql);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: db-ceiling SOCKET USER PASSWORD DATABASE SECONDS THREADS STATEMENTS_FILE\n");
        return 64;
    }
    socket_path = argv[1], user = argv[2], password = argv[3], database = argv[4];
    seconds = atof(argv[5]);
    int threads = atoi(argv[6]);
    FILE *file = fopen(argv[7], "r");
    if (!file || threads < 1 || threads > 64) { fprintf(stderr, "db-ceiling: bad arguments\n"); return 64; }
    char *line = NULL;
    size_t capacity = 0;
    ssize_t length;
    int line_number = 0;
    while ((length = getline(&line, &capacity, file)) >= 0 && statement_count < MAX_STATEMENTS) {
        if (length > 0 && line[length - 1] == '\n') line[--length] = 0;
        if (line_number++ % 2 == 0) sql[statement_count] = strdup(line);
        else parameters[statement_count++] = strdup(line);
    }
    fclose(file);
    if (statement_count == 0) { fprintf(stderr, "db-ceiling: no statements\n"); return 65; }
    mysql_library_init(0, NULL, NULL);
    pthread_t ids[64];
    struct result results[64];
    memset(results, 0, sizeof results);
    double started = now();
    for (int i = 0; i < threads; i++) pthread_create(&ids[i], NULL, run, &results[i]);
    long pages = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(ids[i], NULL);
        if (results[i].failed) return 1;
        pages += results[i].pages;
    }
    printf("%.0f %ld\n", pages / (now() - started), results[0].rows_per_page);
    return 0;
}
