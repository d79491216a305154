// The media API as the widgets use it: JSON requests, uploads with real progress, and
// following a generation job. Only the documented API (GET /api/media/openapi.json).
//
// Identity, in the host app's way: by default the browser's cookies go with every
// request (same origin, through nginx); a `token` is sent as `Authorization: Bearer`;
// `devUser` sets `X-User-Id`, which only the local stack (MEDIA_AUTH=dev) reads.

/** An error answer of the API: `status`, the stable `code`, and the server's `message`. */
export class MediaApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'MediaApiError';
    this.status = status;
    this.code = code;
  }

  /** Worth trying again later: the network, or the service said so (503, 504). */
  get transient() {
    return this.status === 0 || this.status === 503 || this.status === 504;
  }
}

/** The API's error shape when the body has one, else a sentence about the status. */
function errorFrom(status, body) {
  const error = body && typeof body === 'object' ? body.error : null;
  if (error && typeof error.message === 'string') {
    return new MediaApiError(status, String(error.code || 'error'), error.message);
  }
  return new MediaApiError(status, `http_${status}`, `The server answered ${status} without an explanation.`);
}

function parseJSON(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** Resolves after `milliseconds`, or rejects at once when `signal` aborts. */
export function sleep(milliseconds, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, milliseconds);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

export class MediaClient {
  constructor({ apiBase = '/api', token = null, devUser = null } = {}) {
    this.apiBase = apiBase.replace(/\/+$/, '');
    this.token = token;
    this.devUser = devUser;
  }

  headers(extra = {}) {
    const headers = { Accept: 'application/json', ...extra };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (this.devUser) headers['X-User-Id'] = this.devUser;
    return headers;
  }

  /** `path` under the API base, with the query's non-empty values. */
  url(path, query = {}) {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
    }
    const text = search.toString();
    return `${this.apiBase}${path}${text ? `?${text}` : ''}`;
  }

  /** One JSON request; the parsed body (null for 204), or a MediaApiError. */
  async request(method, path, { query, json, signal } = {}) {
    let response;
    try {
      response = await fetch(this.url(path, query), {
        method,
        headers: this.headers(json === undefined ? {} : { 'Content-Type': 'application/json' }),
        body: json === undefined ? undefined : JSON.stringify(json),
        credentials: 'same-origin',
        signal,
      });
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      throw new MediaApiError(0, 'network_error', 'The media service could not be reached; check the connection.');
    }
    const body = parseJSON(await response.text());
    if (!response.ok) throw errorFrom(response.status, body);
    return body;
  }

  /**
   * Uploads one file as `multipart/form-data` (fields: title, description, tags,
   * ownerType, ownerId, role). XMLHttpRequest, because fetch reports no upload progress:
   * `onProgress(sentBytes, totalBytes)` follows the bytes as they leave. Returns
   * `{ done, abort }`; `done` resolves to the 201 body (the asset).
   */
  upload(file, fields = {}, onProgress = () => {}) {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) {
      if (value !== undefined && value !== null && value !== '') form.append(name, value);
    }
    form.append('file', file, file.name);
    const request = new XMLHttpRequest();
    const done = new Promise((resolve, reject) => {
      request.open('POST', this.url('/media/upload'));
      for (const [name, value] of Object.entries(this.headers())) request.setRequestHeader(name, value);
      request.upload.addEventListener('progress', (event) => {
        if (event.lengthComputable) onProgress(event.loaded, event.total);
      });
      // Every byte is sent: the server is now reading and processing the file.
      request.upload.addEventListener('load', (event) => onProgress(event.total || file.size, event.total || file.size));
      request.addEventListener('load', () => {
        const body = parseJSON(request.responseText);
        if (request.status === 201) resolve(body);
        else reject(errorFrom(request.status, body));
      });
      request.addEventListener('error', () => reject(new MediaApiError(0, 'network_error',
        'The upload was interrupted; check the connection and try again.')));
      request.addEventListener('abort', () => reject(new DOMException('The upload was cancelled.', 'AbortError')));
      request.send(form);
    });
    return { done, abort: () => request.abort() };
  }

  /**
   * Follows a generation job until it is `succeeded` or `failed`, polling with back-off
   * (`firstDelay`, times `factor`, at most `maxDelay`); transient errors are retried on
   * the same schedule. `onUpdate(job)` sees every state read. Resolves to the last job.
   */
  async followJob(id, { onUpdate = () => {}, signal, firstDelay = 400, maxDelay = 4000, factor = 1.6 } = {}) {
    let delay = firstDelay;
    for (;;) {
      try {
        const job = await this.request('GET', `/media/jobs/${encodeURIComponent(id)}`, { signal });
        onUpdate(job);
        if (job.status === 'succeeded' || job.status === 'failed') return job;
      } catch (error) {
        if (!(error instanceof MediaApiError && error.transient)) throw error;
      }
      await sleep(delay, signal);
      delay = Math.min(maxDelay, delay * factor);
    }
  }
}
