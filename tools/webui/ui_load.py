#!/usr/bin/env python3
"""Measures how long the web UI takes to show a 100-block document in headless Chromium.

usage: ui_load.py            (builds nothing: needs .build/debug/marksync-log or MARKSYNC_BIN)
Writes a 100-block README into a temporary folder, serves it, loads /ui/ five times and prints the
seconds from navigation to 100 rendered blocks, and the page's transfer size.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

binary = os.environ.get("MARKSYNC_BIN", os.path.join(os.path.dirname(__file__), "../../.build/debug/marksync-log"))
folder = tempfile.mkdtemp(prefix="ui-load-")
lines = ["# Big project", ""]
for i in range(100):
    lines += [f"Block {i}.", "", f"```python markpact:file path=pkg/mod{i}.py"]
    lines += [f"def f{i}_{j}(x):\n    return x + {j}" for j in range(8)] + ["```", ""]
readme = os.path.join(folder, "README.md")
with open(readme, "w") as f:
    f.write("\n".join(lines))
server = subprocess.Popen([binary, "serve", readme, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
port = None
for line in server.stdout:
    if line.startswith("listening "):
        port = int(line.split()[1])
        break
if port is None:
    sys.exit("the server did not start")
options = webdriver.ChromeOptions()
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
    options.add_argument(flag)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    times = []
    for _ in range(5):
        start = time.time()
        driver.get(f"http://127.0.0.1:{port}/ui/")
        WebDriverWait(driver, 60).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".block")) >= 100)
        times.append(round(time.time() - start, 3))
    navigation = driver.execute_script("return performance.getEntriesByType('navigation')[0].toJSON()")
    print(json.dumps({"blocks": 100, "seconds_to_render": times, "page_bytes": navigation.get("transferSize")}))
finally:
    driver.quit()
    server.terminate()
    server.wait()
