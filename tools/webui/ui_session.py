#!/usr/bin/env python3
"""Drives the web UI of a running marksync-log server in headless Chromium (Selenium) and checks what a
person would see. Used by Tests/MarksyncServerTests/WebUITests.swift; exits non-zero with the reason
when something does not hold.

usage: ui_session.py BASE_URL DOC SCREENSHOT [--token TOKEN] [--wrong-token WRONG] [--only-open]
  BASE_URL like http://127.0.0.1:PORT; the document must hold markpact:file=app/main.py and markpact:run.
Prints JSON lines: {"step": ..., ...} for the test to check against the log.
"""
import json
import sys
import time
import urllib.parse
import urllib.request
import warnings

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait
from websockets.sync.client import connect

warnings.filterwarnings("ignore", category=DeprecationWarning)

MAIN = "markpact:file=app/main.py"
RUN = "markpact:run"


def report(step, **fields):
    print(json.dumps(dict(step=step, **fields)), flush=True)


def main():
    base, doc, screenshot = sys.argv[1], sys.argv[2], sys.argv[3]
    token = sys.argv[sys.argv.index("--token") + 1] if "--token" in sys.argv else None
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    # The page re-renders a block when it changes: a found element may go stale between two looks.
    wait = WebDriverWait(driver, 20, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))
    try:
        run(driver, wait, base, doc, screenshot, token)
    except Exception:
        driver.save_screenshot(screenshot)
        raise
    finally:
        driver.quit()


def click(driver, selector, within=None):
    """Clicks through JavaScript: the sticky header may cover the element after scrolling."""
    element = (within or driver).find_element(By.CSS_SELECTOR, selector)
    driver.execute_script("arguments[0].click()", element)


def block(driver, block_id):
    return driver.find_element(By.CSS_SELECTOR, '.block[data-id="%s"]' % block_id)


def area(driver, block_id):
    return block(driver, block_id).find_element(By.TAG_NAME, "textarea")


def protocol(base, doc, token, name):
    url = base.replace("http", "ws", 1) + "/sync/" + doc + "?name=" + name + ("&token=" + token if token else "")
    socket = connect(url)
    first = json.loads(socket.recv(timeout=10))
    assert first["type"] == "manifest", first
    return socket


def request(socket, message):
    socket.send(json.dumps(message))
    while True:
        reply = json.loads(socket.recv(timeout=10))
        if reply["type"] in ("ack", "nack", "error", "cursor", "subscribed"):
            return reply


def run(driver, wait, base, doc, screenshot, token):
    driver.get(base + "/ui/?doc=" + doc)
    if token:
        # The page asks for the token first.
        wait.until(lambda d: d.find_element(By.ID, "login").is_displayed())
        report("asked_for_token", message=driver.find_element(By.ID, "loginerror").text)
        if "--wrong-token" in sys.argv:
            # A wrong token is reported as not accepted (not as "the server needs a token").
            driver.find_element(By.ID, "token").send_keys(sys.argv[sys.argv.index("--wrong-token") + 1])
            click(driver, "#loginform button")
            wait.until(lambda d: "not accepted" in d.find_element(By.ID, "loginerror").text)
            report("wrong_token", message=driver.find_element(By.ID, "loginerror").text)
            driver.find_element(By.ID, "token").clear()
        driver.find_element(By.ID, "token").send_keys(token)
        click(driver, "#loginform button")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".block textarea")) >= 2)
    wait.until(lambda d: "live" in d.find_element(By.ID, "conn").text)
    name = driver.execute_script("return state.name")
    report("loaded", blocks=len(driver.find_elements(By.CSS_SELECTOR, ".block")), name=name)
    if "--only-open" in sys.argv:
        return

    # 1. Edit a block in the page: it goes out as a patch with base_seq and lands in the log.
    original = area(driver, MAIN).get_attribute("value")
    edited = original.rstrip("\n") + "\n# edited in the browser ✓\n"
    field = area(driver, MAIN)
    field.clear()
    field.send_keys(edited)
    click(driver, ".save", block(driver, MAIN))
    wait.until(lambda d: "dirty" not in block(d, MAIN).get_attribute("class"))
    wait.until(lambda d: "saved as seq" in block(d, MAIN).find_element(By.CSS_SELECTOR, ".status").text)
    report("edited", block=MAIN, content=edited, author=name, status=block(driver, MAIN).find_element(By.CSS_SELECTOR, ".status").text)

    # 1b. Ctrl+S in a block saves it, with the same confirmation.
    again = edited + "# saved with ctrl-s\n"
    typed = False
    for _ in range(5):
        # A redraw between the lookup and the keys makes the element stale: look it up again.
        try:
            field = area(driver, MAIN)
            field.send_keys(Keys.CONTROL, Keys.END)
            field.send_keys("# saved with ctrl-s\n")
            typed = True
            break
        except StaleElementReferenceException:
            time.sleep(0.2)
    assert typed, "the block was redrawn under every attempt to type in it"
    wait.until(lambda d: "dirty" in block(d, MAIN).get_attribute("class"))
    assert area(driver, MAIN).get_attribute("value") == again, area(driver, MAIN).get_attribute("value")
    area(driver, MAIN).send_keys(Keys.CONTROL, "s")
    wait.until(lambda d: "dirty" not in block(d, MAIN).get_attribute("class"))
    wait.until(lambda d: "saved as seq" in block(d, MAIN).find_element(By.CSS_SELECTOR, ".status").text)
    report("ctrl_s", block=MAIN, content=area(driver, MAIN).get_attribute("value"), expected=again)

    # 1c. The prose around the blocks is shown (read-only) in the blocks view.
    prose = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#blocklist .prose")]
    assert any("Intro prose." in text for text in prose), prose
    report("prose_shown", count=len(prose))

    # 1d. The Agents tab explains why it is empty before any agent subscribed.
    click(driver, 'nav button[data-tab="agents"]')
    wait.until(lambda d: d.find_element(By.ID, "agentsempty").is_displayed())
    report("agents_empty_explained", text=driver.find_element(By.ID, "agentsempty").text)
    click(driver, 'nav button[data-tab="blocks"]')

    # 2. A write through the sync protocol appears in the page.
    socket = protocol(base, doc, token, "ws-tester")
    ack = request(socket, {"type": "full", "block_id": RUN, "content": "echo changed remotely", "id": "remote-1-" + name})
    assert ack["type"] == "ack", ack
    wait.until(lambda d: area(d, RUN).get_attribute("value") == "echo changed remotely")
    report("remote_seen", seq=ack["seq"])

    # 3. A conflict is shown, never dropped: the person edits while someone else changes the block.
    field = area(driver, RUN)
    field.send_keys(" # mine")
    ack2 = request(socket, {"type": "full", "block_id": RUN, "content": "echo theirs", "id": "remote-2-" + name})
    wait.until(lambda d: len(block(d, RUN).find_elements(By.CSS_SELECTOR, ".conflict")) == 1)
    conflict = block(driver, RUN).find_element(By.CSS_SELECTOR, ".conflict").text
    assert "echo theirs" in conflict, conflict
    assert area(driver, RUN).get_attribute("value").endswith("# mine"), "the person's text stays"
    report("conflict_shown", seq=ack2["seq"])
    click(driver, ".conflict .theirs", block(driver, RUN))
    wait.until(lambda d: area(d, RUN).get_attribute("value") == "echo theirs")

    # 4. Agents: a durable consumer and a review note on the edited version.
    sub = protocol(base, doc, token, "reviewer-1")
    request(sub, {"type": "subscribe", "consumer": "reviewer-1", "since": 0})
    head = json.loads(urllib.request.urlopen(authorized(base + "/api/v1/docs/" + doc, token)).read())["seq"]
    request(sub, {"type": "cursor", "consumer": "reviewer-1", "seq": head})
    main_block = json.loads(urllib.request.urlopen(authorized(base + "/api/v1/docs/" + doc + "/blocks/" + quote(MAIN), token)).read())
    note = request(socket, {"type": "review", "block_id": MAIN, "block_seq": main_block["seq"], "verdict": "warning", "text": "WARNING\nlooks risky", "id": "note-1-" + name})
    assert note["type"] == "ack", note
    wait.until(lambda d: "looks risky" in block(d, MAIN).text)
    click(driver, 'nav button[data-tab="agents"]')
    wait.until(lambda d: "reviewer-1" in d.find_element(By.ID, "consumers").text)
    wait.until(lambda d: "looks risky" in d.find_element(By.ID, "allnotes").text)
    report("agents_seen")

    # 5. The timeline at an old seq shows the old content.
    click(driver, 'nav button[data-tab="timeline"]')
    driver.execute_script("const s = document.getElementById('seq'); s.value = 1; s.dispatchEvent(new Event('input'));")
    wait.until(lambda d: d.find_element(By.ID, "seqout").text.startswith("seq 1"))
    wait.until(lambda d: "edited in the browser" not in d.find_element(By.ID, "olddoc").text and d.find_element(By.ID, "olddoc").text.strip() != "")
    old_text = driver.find_element(By.ID, "olddoc").text
    report("timeline", seq=1, text=old_text)

    # 6. Diff between the first seq and the head names the browser's line.
    click(driver, 'nav button[data-tab="diff"]')
    click(driver, "#diffgo")
    wait.until(lambda d: "edited in the browser" in d.find_element(By.ID, "diffout").text)
    report("diff_seen")
    # A diff that cannot be made says why in words, not as raw JSON.
    driver.execute_script("document.getElementById('difffrom').value = 999999")
    click(driver, "#diffgo")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#diffout .error")) == 1)
    message = driver.find_element(By.CSS_SELECTOR, "#diffout .error").text
    assert message.startswith("Cannot show this diff:") and "{" not in message, message
    report("diff_error", message=message)
    driver.execute_script("document.getElementById('difffrom').value = 0")

    # 7. Blame: the browser's line is the browser's.
    click(driver, 'nav button[data-tab="blame"]')
    Select(driver.find_element(By.ID, "blameblock")).select_by_visible_text(MAIN)
    click(driver, "#blamego")
    wait.until(lambda d: "edited in the browser" in d.find_element(By.ID, "blameout").text)
    rows = driver.find_elements(By.CSS_SELECTOR, "#blameout tr")
    line = [r.text for r in rows if "edited in the browser" in r.text][-1]
    assert name in line, line
    report("blame", line=line)

    click(driver, 'nav button[data-tab="blocks"]')
    driver.execute_script("window.scrollTo(0, 0)")
    time.sleep(0.3)
    driver.save_screenshot(screenshot)
    report("screenshot", path=screenshot)

    # 8. A phone-wide window (420 px): every tab button and every block's buttons stay inside the page.
    driver.set_window_size(420, 900)
    wait.until(lambda d: d.execute_script("return document.documentElement.clientWidth") <= 420)
    width = driver.execute_script("return document.documentElement.clientWidth")
    outside = driver.execute_script("""
        const width = document.documentElement.clientWidth, out = [];
        for (const el of document.querySelectorAll('nav button, .block .actions button, header select')) {
          const r = el.getBoundingClientRect();
          if (r.right > width + 0.5 || r.left < -0.5) out.push((el.textContent || el.id).trim() + ' at ' + Math.round(r.left) + '..' + Math.round(r.right));
        }
        return out;""")
    assert not outside, "cut off at %d px: %s" % (width, outside)
    assert driver.execute_script("return document.documentElement.scrollWidth") <= width + 1, "the page scrolls sideways"
    narrow = screenshot.replace(".png", "-420px.png")
    driver.save_screenshot(narrow)
    report("narrow", width=width, screenshot=narrow)
    socket.close()
    sub.close()


def quote(text):
    return urllib.parse.quote(text, safe="")


def authorized(url, token):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    return req


if __name__ == "__main__":
    main()
