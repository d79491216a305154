"""The four widgets in Debian's Chromium, against a real stack through nginx: what a person
does with them, checked in the page and against what the API then holds. Each test ends
with a screenshot of its widget (the run directory's screenshots/)."""
import os
import re

from playwright.sync_api import expect


def widgets(user, *markup):
    return "".join(f'<div class="widget">{item.format(user=user["id"], scene=user["scene"])}</div>' for item in markup)


def record_events(page, *types):
    """Collects the details of the widgets' events in window.events[type]."""
    page.evaluate("""types => {
        window.events = {};
        for (const type of types) {
            window.events[type] = [];
            document.addEventListener(type, (event) => window.events[type].push(event.detail));
        }
    }""", list(types))


def events(page, type):
    return page.evaluate("type => window.events[type]", type)


def test_a_jpeg_upload_shows_its_progress_up_to_100_percent_and_the_asset_appears_in_the_library(
        host_page, user, files, save_screenshot):
    page = host_page(widgets(user, '<media-upload dev-user="{user}"></media-upload>',
                             '<media-library dev-user="{user}"></media-library>'))
    record_events(page, "media-uploaded")
    # About 1.5 MB/s up, so the 2 MB file's progress has steps to see.
    network = page.context.new_cdp_session(page)
    network.send("Network.enable")
    network.send("Network.emulateNetworkConditions",
                 {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 1_500_000})
    page.evaluate("""() => {
        window.percents = [];
        const root = document.querySelector('media-upload').shadowRoot;
        new MutationObserver(() => {
            const shown = root.querySelector('.percent')?.textContent;
            if (shown && shown !== window.percents.at(-1)) window.percents.push(shown);
        }).observe(root, { subtree: true, childList: true, characterData: true });
    }""")
    expect(page.locator("media-library [part=summary]")).to_have_text("No media found.")

    page.locator("media-upload input[type=file]").set_input_files(files.photo("harbour-at-night.jpg"))

    row = page.locator("media-upload li")
    expect(row).to_have_attribute("data-state", "done", timeout=30_000)
    expect(row.locator(".message")).to_have_text("Uploaded")
    assert page.locator("media-upload progress").evaluate("bar => [bar.value, bar.max]") == [100, 100]
    percents = [int(text.rstrip("%")) for text in page.evaluate("window.percents")]
    assert percents[-1] == 100, percents
    assert any(0 < value < 100 for value in percents), f"no progress between 0 and 100: {percents}"
    assert percents == sorted(percents), percents

    (uploaded,) = events(page, "media-uploaded")
    asset = uploaded["asset"]
    assert (asset["type"], asset["width"], asset["height"], asset["title"]) == ("image", 2400, 1800, "harbour-at-night")
    tile = page.locator(f'media-library li[data-asset-id="{asset["id"]}"]')
    expect(tile).to_be_visible()
    expect(tile).to_contain_text("harbour-at-night")
    assert tile.locator("img").evaluate("image => image.complete && image.naturalWidth > 0")
    save_screenshot(page.locator("media-upload"), "media-upload")


def test_a_file_dropped_on_the_drop_zone_is_uploaded(host_page, user):
    page = host_page(widgets(user, '<media-upload dev-user="{user}"></media-upload>'))
    record_events(page, "media-uploaded")
    # What a drop from the desktop delivers: a DataTransfer holding a file (a PNG drawn here).
    transfer = page.evaluate_handle("""async () => {
        const canvas = Object.assign(document.createElement('canvas'), { width: 96, height: 64 });
        const context = canvas.getContext('2d');
        context.fillStyle = '#2a9d8f';
        context.fillRect(0, 0, 96, 64);
        const png = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
        const transfer = new DataTransfer();
        transfer.items.add(new File([png], 'dropped.png', { type: 'image/png' }));
        return transfer;
    }""")
    zone = page.locator("media-upload [part=dropzone]")
    zone.dispatch_event("dragenter", {"dataTransfer": transfer})
    expect(zone).to_have_class(re.compile(r"\bover\b"))
    zone.dispatch_event("drop", {"dataTransfer": transfer})
    expect(zone).not_to_have_class(re.compile(r"\bover\b"))
    expect(page.locator("media-upload li")).to_have_attribute("data-state", "done")
    (uploaded,) = events(page, "media-uploaded")
    assert (uploaded["file"], uploaded["asset"]["mimeType"], uploaded["asset"]["width"]) == ("dropped.png", "image/png", 96)


def test_refused_files_show_the_server_s_reason_each(host_page, user, files, recorder, save_screenshot):
    page = host_page(widgets(user, '<media-upload dev-user="{user}"></media-upload>'))
    record_events(page, "media-upload-error")
    svg = files.write("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
                                     b'<script>alert(1)</script><rect width="64" height="64"/></svg>')
    with open(files.photo("whole.jpg", 640, 480), "rb") as whole:
        truncated = files.write("truncated.jpg", whole.read()[:3000])
    oversized = files.write("oversized.jpg", b"\xff\xd8\xff\xe0" + os.urandom(7_500_000))

    # Several at once, as a person picks them.
    page.locator("media-upload input[type=file]").set_input_files([svg, truncated, oversized])

    rows = page.locator("media-upload li")
    expect(rows).to_have_count(3)
    for index in range(3):
        expect(rows.nth(index)).to_have_attribute("data-state", "refused", timeout=30_000)
    shown = {rows.nth(index).locator(".name").inner_text(): (rows.nth(index).get_attribute("data-error-code"),
                                                             rows.nth(index).locator(".message").inner_text())
             for index in range(3)}
    server = {}
    for response in recorder.responses:
        if response.url.endswith("/api/media/upload"):
            server[response.status] = response.json()["error"]
    assert sorted(server) == [413, 415, 422], server
    assert shown == {
        "drawing.svg": (server[415]["code"], server[415]["message"]),
        "truncated.jpg": (server[422]["code"], server[422]["message"]),
        "oversized.jpg": (server[413]["code"], server[413]["message"]),
    }
    assert shown["drawing.svg"][0] == "unsupported_media_type" and "Accepted images" in shown["drawing.svg"][1]
    assert shown["oversized.jpg"][0] == "file_too_large"
    assert {detail["file"] for detail in events(page, "media-upload-error")} == set(shown)
    expect(page.locator("media-upload [role=alert]")).to_contain_text("was not uploaded")
    save_screenshot(page.locator("media-upload"), "media-upload-refused")


def test_a_generation_is_followed_until_its_image_appears(host_page, user, save_screenshot):
    page = host_page(widgets(user, '<media-generate dev-user="{user}"></media-generate>',
                             '<media-library dev-user="{user}"></media-library>'))
    record_events(page, "media-job", "media-generated")

    page.get_by_label("Prompt", exact=True).fill("a lighthouse at dusk, storm clouds over the harbour")
    page.get_by_label("Negative prompt (optional)").fill("people")
    page.get_by_label("Size").select_option("256x256")
    page.get_by_role("button", name="Generate").click()

    state = page.locator("media-generate .state")
    expect(state).to_have_attribute("data-status", "succeeded", timeout=30_000)
    expect(state).to_have_text("Done")
    image = page.locator("media-generate .result img")
    expect(image).to_be_visible()
    assert image.evaluate("image => image.complete && image.naturalWidth") == 256
    states = [detail["job"]["status"] for detail in events(page, "media-job")]
    assert states[0] == "queued" and states[-1] == "succeeded", states
    assert [step for step in ["queued", "running", "succeeded"] if step in states] == states, states
    (generated,) = events(page, "media-generated")
    assert generated["job"]["negativePrompt"] == "people"
    assert generated["asset"]["source"] == "generated"
    expect(page.locator(f'media-library li[data-asset-id="{generated["asset"]["id"]}"]')).to_be_visible()
    expect(page.get_by_role("button", name="Generate")).to_be_enabled()
    save_screenshot(page.locator("media-generate"), "media-generate")


def test_a_generation_shows_the_running_state_and_a_provider_s_refusal(host_page, openai_stack, user,
                                                                      save_screenshot):
    page = host_page(widgets(user, '<media-generate dev-user="{user}" size="256x256"></media-generate>'),
                     on=openai_stack)
    record_events(page, "media-job", "media-generate-failed")
    prompt, state = page.get_by_label("Prompt", exact=True), page.locator("media-generate .state")
    button = page.get_by_role("button", name="Generate")

    prompt.fill("slow 2 a harbour in the rain")  # the stand-in answers after 2 s
    button.click()
    expect(state).to_have_attribute("data-status", "running")
    expect(state).to_have_text("Generating…")
    expect(button).to_be_disabled()
    expect(state).to_have_attribute("data-status", "succeeded", timeout=30_000)

    prompt.fill("policy a harbour in the rain")  # refused by the provider's content policy
    button.click()
    expect(state).to_have_attribute("data-status", "failed", timeout=30_000)
    (failed,) = events(page, "media-generate-failed")
    reason = failed["job"]["error"]
    assert failed["job"]["status"] == "failed" and reason
    expect(state).to_have_text(f"Failed: {reason}")
    expect(page.locator("media-generate [role=alert]")).to_have_text(f"The generation failed: {reason}")
    expect(page.locator("media-generate .result")).to_be_empty()
    states = [detail["job"]["status"] for detail in events(page, "media-job")]
    assert states[:3] == ["queued", "running", "succeeded"] and states[3] == "queued" and states[-1] == "failed", states
    expect(button).to_be_enabled()
    save_screenshot(page.locator("media-generate"), "media-generate-failed")


def test_attach_from_the_library_then_reorder_by_drag_and_keyboard_set_the_cover_and_detach(
        host_page, api, user, files, save_screenshot):
    titles = ["One", "Two", "Three"]
    assets = {title: api.upload(files.card(f"{title}.jpg", title, hue), title=title)
              for title, hue in zip(titles, [10, 140, 220])}
    page = host_page(widgets(user, '<media-attach dev-user="{user}" owner-type="scene" owner-id="{scene}"></media-attach>'))
    attach = page.locator("media-attach")
    record_events(page, "media-attached", "media-reordered", "media-cover-set", "media-detached")
    expect(attach.locator('[data-role="gallery"]')).to_have_text("Nothing attached.")

    for title in titles:
        attach.get_by_role("button", name="Add from library").click()
        attach.get_by_role("listbox", name="Media library").get_by_role("option", name=title).click()
        attach.get_by_label("Role").select_option("gallery")
        attach.get_by_role("button", name="Attach selected").click()
        expect(attach.locator(f'ol[data-role="gallery"] li[data-asset-id="{assets[title]["id"]}"]')).to_be_visible()
    gallery = attach.locator('ol[data-role="gallery"] li')

    def shown():
        return [assets_by_id[item] for item in gallery.evaluate_all("items => items.map(i => i.dataset.assetId)")]

    def stored(role="gallery"):
        return [assets_by_id[item["assetId"]] for item in api.owner_media(user["scene"]) if item["role"] == role]

    assets_by_id = {asset["id"]: title for title, asset in assets.items()}
    assert shown() == stored() == ["One", "Two", "Three"]

    # Drag Three onto the top half of One: it goes first.
    gallery.nth(2).drag_to(gallery.nth(0), target_position={"x": 20, "y": 4})
    expect(attach.locator("[part=message]")).to_have_text("Moved Three to position 1 of 3.")
    assert shown() == stored() == ["Three", "One", "Two"]

    # The keyboard: Alt+↓ moves the focused item down; it keeps the focus.
    gallery.nth(0).focus()
    page.keyboard.press("Alt+ArrowDown")
    expect(attach.locator("[part=message]")).to_have_text("Moved Three to position 2 of 3.")
    assert shown() == stored() == ["One", "Three", "Two"]
    assert attach.evaluate("element => element.shadowRoot.activeElement.dataset.assetId") == assets["Three"]["id"]
    # And the move buttons.
    attach.get_by_role("button", name="Move Two up").click()
    expect(attach.locator("[part=message]")).to_have_text("Moved Two to position 2 of 3.")
    assert shown() == stored() == ["One", "Two", "Three"]

    attach.get_by_role("button", name="Set Two as cover").click()
    expect(attach.locator('ol[data-role="cover"] li')).to_have_attribute("data-asset-id", assets["Two"]["id"])
    assert stored("cover") == ["Two"]
    expect(attach.get_by_role("button", name="Set Two as cover")).to_have_count(0)
    attach.get_by_role("button", name="Set Three as cover").click()
    expect(attach.locator('ol[data-role="cover"] li')).to_have_attribute("data-asset-id", assets["Three"]["id"])
    assert stored("cover") == ["Three"], "one cover per owner"

    attach.get_by_role("button", name="Detach One from Gallery").click()
    expect(gallery).to_have_count(2)
    assert shown() == stored() == ["Two", "Three"]
    assert events(page, "media-detached")[0]["attachment"]["assetId"] == assets["One"]["id"]
    assert len(events(page, "media-attached")) == 3 and len(events(page, "media-reordered")) == 3
    assert len(events(page, "media-cover-set")) == 2
    save_screenshot(attach, "media-attach")


def test_the_library_loads_the_next_pages_by_cursor_as_it_scrolls_and_filters(
        host_page, api, user, files, recorder, save_screenshot):
    video = api.upload(files.video(), title="Night drive")
    for number in range(1, 31):
        api.upload(files.card(f"card-{number}.jpg", str(number), number * 12), title=f"Card {number}",
                   tags=["night"] if number % 3 == 0 else ["day"])
    page = host_page(widgets(user, '<media-library dev-user="{user}" page-size="12"></media-library>'))
    record_events(page, "media-select")
    library = page.locator("media-library")
    tiles = library.get_by_role("listbox", name="Media library").get_by_role("option")
    expect(tiles.first).to_be_visible()
    page.wait_for_load_state("networkidle")
    first_load = tiles.count()
    assert 12 <= first_load < 31, first_load
    expect(library.locator("[part=summary]")).to_have_text(f"{first_load} items, more below")

    scroller = library.locator("[part=scroller]")
    for _ in range(20):
        if tiles.count() == 31:
            break
        scroller.hover()
        page.mouse.wheel(0, 1500)
        page.wait_for_timeout(150)
    expect(tiles).to_have_count(31)
    expect(library.locator("[part=summary]")).to_have_text("31 items")
    names = tiles.evaluate_all("items => items.map(item => item.getAttribute('aria-label'))")
    assert names == [f"Card {number}" for number in range(30, 0, -1)] + ["Night drive (video)"], "newest first, each once"
    cursors = [response.url for response in recorder.responses if "cursor=" in response.url]
    assert len(cursors) >= 2, "the pages after the first come by cursor"

    # The keyboard: into the grid, one to the right, Enter selects.
    tiles.first.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(tiles.nth(1)).to_have_attribute("aria-selected", "true")
    assert [detail["asset"]["title"] for detail in events(page, "media-select")] == ["Card 29"]
    save_screenshot(library, "media-library")

    library.get_by_label("Tag").fill("night")
    expect(tiles).to_have_count(10)
    library.get_by_label("Title").fill("Card 2")
    expect(tiles).to_have_count(3)  # Card 27, 24, 21: titles with "Card 2" and the tag
    library.get_by_label("Tag").fill("")
    library.get_by_label("Title").fill("Card 7")
    expect(tiles).to_have_count(1)
    library.get_by_label("Type").select_option("video")
    expect(library.locator("[part=summary]")).to_have_text("No media found.")
    library.get_by_label("Title").fill("")
    expect(tiles).to_have_count(1)
    # A video shows its poster (the thumbnail is made from it), marked as a video.
    expect(tiles.first.locator(".badge")).to_have_text("Video")
    thumbnail = {variant["kind"]: variant["url"] for variant in video["variants"]}["thumbnail"]
    assert tiles.first.locator("img").get_attribute("src") == thumbnail
    assert tiles.first.locator("img").evaluate("image => image.complete && image.naturalWidth > 0")
    save_screenshot(library, "media-library-filtered")


def test_cookies_go_with_every_request_and_a_token_is_sent_as_a_bearer(host_page, page, stack, user):
    page.context.add_cookies([{"name": "host_session", "value": "s3cret", "url": stack.base_url}])
    requests = []
    page.on("request", lambda request: requests.append(request) if "/api/media" in request.url else None)
    host_page(widgets(user, '<media-library></media-library>',
                      '<media-library token="header.payload.signature"></media-library>'))
    libraries = page.locator("media-library")
    # The local stack reads X-User-Id only: both are refused, and say the server's reason.
    for index in range(2):
        expect(libraries.nth(index).locator("[part=summary]")).to_have_text("A valid identity is required.")
    sent = [request.all_headers() for request in requests]
    by_cookie = [headers for headers in sent if "authorization" not in headers]
    by_token = [headers for headers in sent if "authorization" in headers]
    assert by_cookie and all(headers.get("cookie") == "host_session=s3cret" for headers in by_cookie), by_cookie
    assert by_token and all(headers["authorization"] == "Bearer header.payload.signature" for headers in by_token)
    assert not any("x-user-id" in headers for headers in sent)


def test_the_demo_page_shows_the_four_widgets_for_a_seeded_user(page, stack, save_screenshot):
    page.goto(f"{stack.base_url}/media-widgets/demo.html?user=u-bob")
    for name in ["media-upload", "media-generate", "media-library", "media-attach"]:
        expect(page.locator(name)).to_have_attribute("dev-user", "u-bob")
    expect(page.get_by_label("Scene", exact=True)).to_have_value("scene-bob-1")
    expect(page.locator("media-attach h3").first).to_have_text("Cover")
    expect(page.locator("media-library [part=summary]")).to_have_text(re.compile(r"^(\d+ items?|No media found\.)"))
    save_screenshot(page.locator("main"), "demo")
