"""Fixtures of the browser tests: a real stack (the pool and nginx, started by
scripts/stack on the test database that scripts/test runs), Debian's Chromium driven by
Playwright, a fresh user per test with a scene of their own, test files made with libvips
and ImageMagick, and a contract check of every API response the test receives (the
browser's and the test's own requests alike).
"""
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import sync_playwright

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "Tests", "Contract"))
import contract  # noqa: E402  (after the path is known)

RUN_DIR = os.environ.get("MEDIA_RUN_DIR", os.path.join(REPO, ".run", "test"))
SCREENSHOTS = os.path.join(RUN_DIR, "screenshots")
CHROMIUM = os.environ.get("MEDIA_TEST_CHROMIUM", "/usr/bin/chromium")
# Small upload limits, so that a refused 8 MB file costs nothing (413 before reading it).
STACK_SETTINGS = {"MEDIA_WORKERS": "2", "MEDIA_MAX_UPLOAD_BYTES": "6m", "MEDIA_MAX_VIDEO_BYTES": "6m"}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Stack:
    """The pool and nginx in a run directory of their own, sharing the test database."""

    def __init__(self, settings):
        # Unix socket paths are limited to 107 bytes: a short directory, like LocalStack's.
        self.run_dir = tempfile.mkdtemp(prefix="mt-browser-", dir="/tmp")
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.environment = {name: value for name, value in os.environ.items() if not name.startswith("MEDIA_")}
        self.environment.update(settings)
        self.environment.update({
            "MEDIA_RUN_DIR": self.run_dir, "MEDIA_HTTP_PORT": str(self.port),
            "MEDIA_BIN": os.environ.get("MEDIA_BIN", os.path.join(REPO, ".build", "debug", "media-server")),
        })

    def stack(self, *commands):
        result = subprocess.run([os.path.join(REPO, "scripts", "stack"), *commands], env=self.environment,
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"scripts/stack {' '.join(commands)} failed:\n{result.stdout}{result.stderr}")

    def start(self):
        self.stack("env", "pool-up", "nginx-up")
        return self

    def stop(self):
        self.stack("nginx-down", "pool-down")
        shutil.rmtree(self.run_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def stack():
    if not os.environ.get("DATABASE_URL"):
        pytest.fail("run the browser tests with ./scripts/test (it starts the test database)")
    running = Stack(STACK_SETTINGS).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def openai_stack(stack):
    """A stack whose generations go to scripts/openai-standin (the OpenAI images wire
    format, on loopback): a prompt's first word picks what the provider does, e.g.
    `slow 2 …` answers after 2 s, `policy …` refuses it as a content-policy violation."""
    port, key = free_port(), "sk-browser-" + secrets.token_hex(8)
    standin = subprocess.Popen(["/usr/bin/python3", os.path.join(REPO, "scripts", "openai-standin"),
                                "--port", str(port), "--api-key", key],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        if not standin.stdout.readline().startswith("listening on"):
            raise RuntimeError("scripts/openai-standin did not start")
        running = Stack({**STACK_SETTINGS, "MEDIA_GENERATION_PROVIDER": "openai",
                         "MEDIA_OPENAI_BASE_URL": f"http://127.0.0.1:{port}", "MEDIA_OPENAI_API_KEY": key,
                         "MEDIA_OPENAI_MODEL": "gpt-image-1"}).start()
        yield running
        running.stop()
    finally:
        standin.terminate()
        standin.wait()


def database(sql):
    """Runs SQL on the test database (the host fixture's tables), as the media user."""
    url = urlsplit(os.environ["DATABASE_URL"])
    socket_path = parse_qs(url.query).get("socket", [None])[0]
    where = [f"--socket={socket_path}"] if socket_path else [f"--host={url.hostname}", f"--port={url.port or 3306}"]
    subprocess.run(["mariadb", "--no-defaults", *where, f"--user={url.username}", f"--password={url.password}",
                    url.path.lstrip("/"), "-e", sql], check=True, capture_output=True, text=True)


@pytest.fixture
def user():
    """A user of their own for each test, owning one script with one scene (host fixture rows)."""
    suffix = f"{int(time.time())}-{random.randrange(1 << 32):08x}"
    user_id, script_id, scene_id = f"u-browser-{suffix}", f"script-browser-{suffix}", f"scene-browser-{suffix}"
    database(f"""
        INSERT INTO `Script` (`id`, `userId`, `title`, `createdAt`, `updatedAt`)
            VALUES ('{script_id}', '{user_id}', 'Browser test', NOW(3), NOW(3));
        INSERT INTO `Scene` (`id`, `scriptId`, `title`, `sortOrder`, `createdAt`, `updatedAt`)
            VALUES ('{scene_id}', '{script_id}', 'Harbour at dawn', 0, NOW(3), NOW(3));
    """)
    yield {"id": user_id, "scene": scene_id}
    database(f"DELETE FROM `Scene` WHERE `id` = '{scene_id}'; DELETE FROM `Script` WHERE `id` = '{script_id}';")


class Files:
    """Test files, made at test time."""

    def __init__(self, directory):
        self.directory = directory

    def path(self, name):
        return os.path.join(self.directory, name)

    def photo(self, name="harbour.jpg", width=2400, height=1800):
        """A JPEG of noise: about 2 MB, so that an upload takes visible time."""
        subprocess.run(["vips", "gaussnoise", self.path(name), str(width), str(height), "--mean", "128",
                        "--sigma", "60"], check=True)
        return self.path(name)

    def card(self, name, label, hue):
        """A small coloured JPEG with a label, told apart at a glance in a screenshot."""
        subprocess.run(["convert", "-size", "320x240", f"xc:hsl({hue},65%,45%)", "-gravity", "center", "-fill", "white",
                        "-font", "DejaVu-Sans", "-pointsize", "64", "-annotate", "0", label, self.path(name)], check=True)
        return self.path(name)

    def video(self, name="night-drive.mp4"):
        """A one-second H.264 MP4 (ffmpeg's test pattern)."""
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10",
                        "-t", "1", "-pix_fmt", "yuv420p", self.path(name)], check=True)
        return self.path(name)

    def write(self, name, content):
        with open(self.path(name), "wb") as output:
            output.write(content)
        return self.path(name)


@pytest.fixture(scope="session")
def files(tmp_path_factory):
    return Files(str(tmp_path_factory.mktemp("files")))


@pytest.fixture(scope="session")
def api_contract():
    return contract.Contract()


class ContractRecorder:
    """Every service response a test receives, checked against the contract at its end."""

    def __init__(self, api_contract):
        self.api_contract = api_contract
        self.responses = []
        self.found = []

    def browser_response(self, response):
        if contract.is_service_path(response.url):
            self.responses.append(response)

    def check(self, method, url, status, headers, body):
        found = [f"{method} {url} -> {status}: {problem}"
                 for problem in self.api_contract.problems(method, url, status, headers, body)]
        self.found += found
        return found

    def check_browser_responses(self):
        """Checks what the page received; while the page is open (bodies are read from it)."""
        for response in self.responses:
            # A revalidated page (304) reaches the page as the cached body: the wire had none.
            body = b"" if response.status in (204, 304) else response.body()
            self.check(response.request.method, response.url, response.status, response.all_headers(), body)


@pytest.fixture(scope="session")
def playwright_driver():
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver):
    # Debian's Chromium, never a downloaded browser.
    launched = playwright_driver.chromium.launch(executable_path=CHROMIUM, headless=True)
    yield launched
    launched.close()


@pytest.fixture
def recorder(api_contract):
    checked = ContractRecorder(api_contract)
    yield checked
    assert not checked.found, "responses that break the contract:\n" + "\n".join(checked.found)


@pytest.fixture
def api(playwright_driver, stack, user, recorder):
    """The API as the test itself calls it (to set up data), as the test's user."""
    context = playwright_driver.request.new_context(base_url=stack.base_url,
                                                    extra_http_headers={"X-User-Id": user["id"]})

    class API:
        def call(self, method, path, **options):
            response = context.fetch(path, method=method, **options)
            body = response.body()
            problems = recorder.check(method, stack.base_url + path, response.status, response.headers, body)
            assert not problems, "\n".join(problems)
            return response.status, (json.loads(body) if body else None)

        def upload(self, file_path, title=None, tags=None):
            with open(file_path, "rb") as source:
                # The service sniffs the type from the bytes: the part's own type does not matter.
                form = {"file": {"name": os.path.basename(file_path), "mimeType": "application/octet-stream",
                                 "buffer": source.read()}}
            if title:
                form["title"] = title
            if tags:
                form["tags"] = json.dumps(tags)
            status, asset = self.call("POST", "/api/media/upload", multipart=form)
            assert status == 201, asset
            return asset

        def owner_media(self, scene):
            status, body = self.call("GET", f"/api/owners/scene/{scene}/media")
            assert status == 200, body
            return body["items"]

    yield API()
    context.dispose()


@pytest.fixture
def page(browser, stack, recorder):
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 1100, "height": 900})
    opened = context.new_page()
    errors = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("response", recorder.browser_response)
    opened.set_default_timeout(20_000)
    yield opened
    recorder.check_browser_responses()
    context.close()
    assert not errors, f"errors in the page: {errors}"


HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Host page</title><link rel="icon" href="data:,">
<script type="module" src="/media-widgets/media-widgets.js"></script>
<style>body {{ margin: 16px; font: 15px system-ui, sans-serif; background: #eef1f4; }}
.widget {{ width: 640px; padding: 16px; margin-bottom: 16px; background: #fff; border-radius: 10px; }}</style>
</head><body>{body}</body></html>"""


@pytest.fixture
def host_page(page, stack):
    """Opens a page of the host app on a stack's origin with the widgets in `body`: what a
    host app does (the widgets' modules and every API call go through that stack's nginx)."""
    def open_with(body, on=stack):
        url = f"{on.base_url}/host-{random.randrange(1 << 32):08x}.html"
        page.route(url, lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8",
                                                    body=HOST_PAGE.format(body=body)))
        page.goto(url)
        page.wait_for_function("customElements.get('media-attach') !== undefined")
        return page
    return open_with


@pytest.fixture(scope="session")
def save_screenshot():
    """Saves an element's picture under the run directory (screenshots/NAME.png)."""
    os.makedirs(SCREENSHOTS, exist_ok=True)

    def save(locator, name):
        locator.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"))
    return save
