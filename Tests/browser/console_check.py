#!/usr/bin/env python3
"""Drives headless Chromium against a running `lrj serve` and prints what it saw as JSON.

Usage: console_check.py investigator URL ARTIFACTS PROCEDURE CAMERA
       console_check.py magistrate URL ARTIFACTS PROCEDURE

The Swift test (Tests/lrjTests/ConsoleTests.swift) starts the server, runs this script, and
checks the JSON against `lrj search` and `lrj log`. Screenshots go to ARTIFACTS.
"""
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def http(url, cookie=None, method="GET", data=None):
    """Status, headers and body of a plain HTTP request (no browser)."""
    request = urllib.request.Request(url, method=method, data=data)
    if cookie:
        request.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def browser():
    options = Options()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1100",
                     "--autoplay-policy=no-user-gesture-required", "--disable-dev-shm-usage"]:
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def image_spread(driver, element):
    """Standard deviation of an image's pixels, drawn into a canvas (0 for a blank image)."""
    return driver.execute_script("""
        const img = arguments[0];
        if (!img.complete || img.naturalWidth === 0) return -1;
        const c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        const g = c.getContext('2d'); g.drawImage(img, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data;
        let n = 0, s = 0, s2 = 0;
        for (let i = 0; i < d.length; i += 4) { const v = (d[i] + d[i+1] + d[i+2]) / 3; n++; s += v; s2 += v * v; }
        const m = s / n; return Math.sqrt(Math.max(0, s2 / n - m * m));
    """, element)


# Zones for "from A to B" on the Samples street: the left third to the right third of the road.
FROM_ZONE_A = [(0.02, 0.45), (0.33, 0.45), (0.33, 0.98), (0.02, 0.98)]
FROM_ZONE_B = [(0.67, 0.45), (0.98, 0.45), (0.98, 0.98), (0.67, 0.98)]


def click_points(driver, still, points):
    """Clicks on the still at normalised points (offsets are from the element's centre)."""
    width, height = still.size["width"], still.size["height"]
    for fx, fy in points:
        ActionChains(driver).move_to_element_with_offset(still, int((fx - 0.5) * width), int((fy - 0.5) * height)).click().perform()


def play_until_ready(driver, video, seconds=30):
    """Plays a video element (muted) and waits until it has data for the current frame (readyState 2)."""
    driver.execute_script("arguments[0].muted = true; arguments[0].play();", video)
    deadline = time.time() + seconds
    while time.time() < deadline and driver.execute_script("return arguments[0].readyState", video) < 2:
        time.sleep(0.5)


def loaded_still(driver):
    still = driver.find_element(By.ID, "still")
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", still))
    return still


def investigator(url, artifacts, procedure, camera):
    base = url.split("/?")[0]
    out = {}
    # Without a session: 401 everywhere, and nothing of the data in the answer.
    routes = ["/", "/procedures", f"/procedures/{procedure}", f"/procedures/{procedure}/search?class=car",
              f"/procedures/{procedure}/tracks/T1", f"/procedures/{procedure}/tracks/T1/thumbnail.png",
              f"/procedures/{procedure}/still.png?camera={camera}", f"/api/procedures/{procedure}/search", "/log",
              "/log.csv", "/static/console.js", "/downloads/x", "/?token=wrong"]
    out["unauthenticated"] = {}
    for route in routes:
        status, headers, body = http(base + route)
        out["unauthenticated"][route] = {"status": status, "leaks": procedure.encode() in body or b"T1" in body,
                                         "cacheControl": headers.get("Cache-Control")}
    status, _, _ = http(base + f"/procedures/{procedure}/tracks/T1/extract", method="POST", data=b"margin=1")
    out["unauthenticated"]["POST extract"] = {"status": status, "leaks": False, "cacheControl": "no-store"}

    driver = browser()
    try:
        driver.get(url)
        out["landing"] = driver.current_url.replace(base, "")
        out["procedures"] = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#procedures td:first-child")]
        driver.save_screenshot(f"{artifacts}/01-procedures.png")
        # The link works once.
        status, _, _ = http(url)
        out["tokenReused"] = status

        # Draw a zone by clicking on the still, then search persons entering it.
        driver.get(f"{base}/procedures/{procedure}/search?camera={urllib.parse.quote(camera)}")
        still = loaded_still(driver)
        still.screenshot(f"{artifacts}/01b-still.png")
        click_points(driver, still, [(0.02, 0.52), (0.48, 0.52), (0.48, 0.98), (0.02, 0.98)])
        out["drawnZone"] = driver.find_element(By.ID, "zone").get_attribute("value")
        driver.find_element(By.CSS_SELECTOR, "select[name=class] option[value='']")
        for option in driver.find_elements(By.CSS_SELECTOR, "select[name=class] option"):
            if option.text == "person":
                option.click()
        driver.find_element(By.ID, "run").click()
        WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.ID, "total"))
        out["searchZone"] = driver.find_element(By.ID, "zone").get_attribute("value")
        out["searchTracks"] = [card.get_attribute("data-track") for card in driver.find_elements(By.CSS_SELECTOR, "#results .card")]
        out["searchTotal"] = driver.find_element(By.ID, "total").text
        images = driver.find_elements(By.CSS_SELECTOR, "#results .card img")
        WebDriverWait(driver, 60).until(lambda d: all(d.execute_script("return arguments[0].complete", i) for i in images))
        out["thumbnailSpreads"] = [image_spread(driver, image) for image in images]
        driver.save_screenshot(f"{artifacts}/02-search-with-zone.png")
        if images:
            images[0].screenshot(f"{artifacts}/03-first-thumbnail.png")

        # The camera is chosen from the procedure's cameras; the timeline shows when the hits happen.
        out["cameraOptions"] = [o.get_attribute("value") for o in driver.find_elements(By.CSS_SELECTOR, "select[name=camera] option")]
        buckets = driver.find_elements(By.CSS_SELECTOR, "#timeline a.bucket")
        out["timelineHits"] = sum(int(b.get_attribute("data-count")) for b in buckets)
        if buckets:
            first_bucket = {"count": int(buckets[0].get_attribute("data-count"))}
            driver.execute_script("arguments[0].scrollIntoView()", buckets[0])
            ActionChains(driver).move_to_element(buckets[0].find_element(By.TAG_NAME, "rect")).click().perform()
            WebDriverWait(driver, 60).until(lambda d: "from=" in d.current_url)
            first_bucket["from"] = driver.find_element(By.NAME, "from").get_attribute("value")
            first_bucket["tracks"] = [c.get_attribute("data-track") for c in driver.find_elements(By.CSS_SELECTOR, "#results .card")]
            out["timelineClick"] = first_bucket
            driver.save_screenshot(f"{artifacts}/02a-timeline-bucket.png")
            driver.back()
            WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.ID, "total"))

        # Two tracks selected, exported as a signed bundle, downloaded.
        boxes = driver.find_elements(By.CSS_SELECTOR, "#results .card input[name=track]")
        for box in boxes[:2]:
            driver.execute_script("arguments[0].scrollIntoView()", box)
            box.click()
        out["exportSelected"] = [b.get_attribute("value") for b in boxes[:2]]
        driver.find_element(By.ID, "export").click()
        WebDriverWait(driver, 300).until(lambda d: d.find_elements(By.ID, "bundle"))
        driver.save_screenshot(f"{artifacts}/02d-bundle.png")
        bundle_href = driver.find_element(By.ID, "bundle-download").get_attribute("href")
        status, headers, body = http(bundle_href, cookie="lrj_session=" + driver.get_cookie("lrj_session")["value"])
        out["bundle"] = {"status": status, "bytes": len(body), "cacheControl": headers.get("Cache-Control")}
        with open(f"{artifacts}/bundle.tar", "wb") as f:
            f.write(body)
        driver.back()
        WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.ID, "total"))

        # The synopsis of these tracks renders, plays, and its overview leads back to a track.
        driver.find_element(By.ID, "synopsis-link").click()
        driver.find_element(By.ID, "render").click()
        synopsis = WebDriverWait(driver, 600).until(lambda d: d.find_element(By.ID, "synopsis"))
        play_until_ready(driver, synopsis)
        out["synopsisReadyState"] = driver.execute_script("return arguments[0].readyState", synopsis)
        out["synopsisSummary"] = driver.find_element(By.ID, "synopsis-summary").text
        overview = driver.find_element(By.CSS_SELECTOR, ".overview img")
        WebDriverWait(driver, 60).until(lambda d: d.execute_script("return arguments[0].complete", overview))
        out["overviewSpread"] = image_spread(driver, overview)
        hits = driver.find_elements(By.CSS_SELECTOR, "#overview-hits a")
        out["overviewTracks"] = sorted(set(hit.get_attribute("data-track") for hit in hits))
        driver.save_screenshot(f"{artifacts}/03b-synopsis.png")
        if hits:
            # The last drawn is on top of any other where they overlap.
            target = hits[-1].get_attribute("data-track")
            driver.execute_script("arguments[0].scrollIntoView()", hits[-1])
            ActionChains(driver).move_to_element(hits[-1].find_element(By.TAG_NAME, "rect")).click().perform()
            WebDriverWait(driver, 30).until(lambda d: "/tracks/" in d.current_url)
            out["overviewClick"] = {"track": target, "landed": driver.current_url.replace(base, "")}

        # From zone A to zone B: zone A drawn first (its radio chosen), then the zone, rule "from".
        driver.get(f"{base}/procedures/{procedure}/search?camera={urllib.parse.quote(camera)}")
        still = loaded_still(driver)
        driver.find_element(By.ID, "draw-origin").click()
        click_points(driver, still, FROM_ZONE_A)
        driver.find_element(By.ID, "draw-zone").click()
        click_points(driver, still, FROM_ZONE_B)
        driver.find_element(By.CSS_SELECTOR, "select[name=rule] option[value=from]").click()
        out["fromDrawn"] = {"origin": driver.find_element(By.ID, "origin").get_attribute("value"),
                            "zone": driver.find_element(By.ID, "zone").get_attribute("value")}
        driver.save_screenshot(f"{artifacts}/02b-drawing-from-a-to-b.png")
        driver.find_element(By.ID, "run").click()
        WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.ID, "total"))
        out["fromSearch"] = {"origin": driver.find_element(By.ID, "origin").get_attribute("value"),
                             "zone": driver.find_element(By.ID, "zone").get_attribute("value"),
                             "tracks": [card.get_attribute("data-track") for card in driver.find_elements(By.CSS_SELECTOR, "#results .card")]}
        driver.save_screenshot(f"{artifacts}/02c-search-from-a-to-b.png")

        # A plain search (the default, no zone) for the cache check below.
        cookie = "lrj_session=" + driver.get_cookie("lrj_session")["value"]
        out["cookie"] = {k: driver.get_cookie("lrj_session").get(k) for k in ["httpOnly", "sameSite", "secure"]}
        cache = {}
        for route in [f"/procedures/{procedure}", f"/procedures/{procedure}/search", f"/procedures/{procedure}/tracks/T1/thumbnail.png",
                      f"/procedures/{procedure}/still.png?camera={urllib.parse.quote(camera)}", f"/api/procedures/{procedure}/search",
                      f"/procedures/{procedure}/tracks/T1"]:
            status, headers, _ = http(base + route, cookie=cookie)
            cache[route] = {"status": status, "cacheControl": headers.get("Cache-Control"),
                            "csp": headers.get("Content-Security-Policy", "")}
        # The JSON API answers as lrj search --json does.
        status, _, body = http(base + f"/api/procedures/{procedure}/search?class=car", cookie=cookie)
        out["apiCars"] = sorted(r["track"] for r in json.loads(body)["results"]) if status == 200 else status
        # "From zone A" without zone A: a 400 page that says what to draw.
        zone_b = urllib.parse.quote(" ".join(f"{x},{y}" for x, y in FROM_ZONE_B))
        status, _, body = http(base + f"/procedures/{procedure}/search?camera={urllib.parse.quote(camera)}&zone={zone_b}&rule=from&origin=",
                               cookie=cookie)
        out["fromWithoutA"] = {"status": status, "saysDrawA": b"draw zone A" in body}

        # A track: its page, then its original clip, played in the page.
        first = out["searchTracks"][0] if out["searchTracks"] else "T1"
        driver.get(f"{base}/procedures/{procedure}/tracks/{first}")
        driver.save_screenshot(f"{artifacts}/04-track.png")
        driver.find_element(By.ID, "extract").click()
        video = WebDriverWait(driver, 120).until(lambda d: d.find_element(By.ID, "clip"))
        play_until_ready(driver, video)
        out["clipReadyState"] = driver.execute_script("return arguments[0].readyState", video)
        out["clipError"] = driver.execute_script("return arguments[0].error && arguments[0].error.message", video)
        out["clipSHA256"] = driver.find_element(By.ID, "sha256").text
        time.sleep(1)
        driver.save_screenshot(f"{artifacts}/05-clip.png")
        download = driver.find_element(By.CSS_SELECTOR, "a[href*='download=1']").get_attribute("href")
        status, headers, body = http(download, cookie=cookie)
        cache["/downloads (clip)"] = {"status": status, "cacheControl": headers.get("Cache-Control"), "csp": headers.get("Content-Security-Policy", "")}
        out["clipBytes"] = len(body)
        out["cache"] = cache

        # CSRF: a state-changing request from the page without the token is refused.
        out["csrfWithout"] = driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch(arguments[0], {method: 'POST', credentials: 'same-origin', body: new URLSearchParams({margin: '1'})})
              .then(r => done(r.status)).catch(e => done(String(e)));
        """, f"/procedures/{procedure}/tracks/{first}/extract")
        # An investigator cannot open the log page.
        driver.get(f"{base}/log")
        out["logPage"] = driver.find_element(By.TAG_NAME, "body").text[:300]
        status, _, _ = http(base + "/log", cookie=cookie)
        out["logStatus"] = status
    finally:
        driver.quit()
    print(json.dumps(out))


def magistrate(url, artifacts, procedure):
    out = {}
    driver = browser()
    try:
        driver.get(url)
        out["procedures"] = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#procedures td:first-child")]
        driver.get(url.split("/?")[0] + f"/log?procedure={procedure}")
        out["verification"] = driver.find_element(By.ID, "verification").text
        out["rows"] = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
                       for row in driver.find_elements(By.CSS_SELECTOR, "#log tr")[1:]]
        driver.save_screenshot(f"{artifacts}/06-magistrate-log.png")
        cookie = "lrj_session=" + driver.get_cookie("lrj_session")["value"]
        status, headers, body = http(url.split("/?")[0] + f"/log.csv?procedure={procedure}", cookie=cookie)
        out["csv"] = {"status": status, "firstLine": body.decode().split("\n")[0], "cacheControl": headers.get("Cache-Control")}
        # Closure from the console: the report to download, then the procedure shown closed.
        driver.get(url.split("/?")[0] + f"/procedures/{procedure}/close")
        driver.find_element(By.ID, "close").click()
        WebDriverWait(driver, 120).until(lambda d: d.find_elements(By.ID, "closed"))
        out["closed"] = driver.find_element(By.ID, "closed").text
        links = driver.find_elements(By.CSS_SELECTOR, "#report a")
        out["reportFiles"] = [link.text for link in links]
        driver.save_screenshot(f"{artifacts}/07-closure.png")
        report = [link for link in links if link.text.endswith(".json")]
        if report:
            status, headers, body = http(report[0].get_attribute("href"), cookie=cookie)
            out["reportJSON"] = {"status": status, "procedure": json.loads(body).get("procedure"),
                                 "cacheControl": headers.get("Cache-Control")}
        driver.get(url.split("/?")[0] + "/procedures")
        out["afterClosure"] = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
                               for row in driver.find_elements(By.CSS_SELECTOR, "#procedures tr")[1:]]
    finally:
        driver.quit()
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1] == "investigator":
        investigator(*sys.argv[2:6])
    else:
        magistrate(*sys.argv[2:5])
