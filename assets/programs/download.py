"""Seed 001's I/O demo: each download is a blocking wait that releases the GIL."""
import time

DOWNLOADS = 4
LATENCY = 0.5
URL = "http://example.com"
ENTRY = "download_many"


def download(url):
    """I/O bound: the wait stands in for urllib.request.urlopen(url).read()."""
    time.sleep(LATENCY)
    return len(url)


def download_many(count):
    received = 0
    for _ in range(count):
        received += download(URL)
    return received


def share(k, workers):
    count = DOWNLOADS // workers
    if k < DOWNLOADS % workers:
        count += 1
    return (count,)


def report(results):
    received = 0
    for r in results:
        received += r
    return {"downloads": received // len(URL), "bytes": received}


if __name__ == "__main__":
    from gilscope_driver import main

    main(globals())
