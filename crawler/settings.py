"""Scrapy settings for veille.

Defaults are polite on purpose: the outlets we watch are real newsrooms, and a
monitor that gets blocked sees nothing. Lift limits for a local benchmark with
`make crawl SCRAPY_ARGS="-s NAME=VALUE ..."`, never in this file.
"""

import os

from archive import __version__

BOT_NAME = "veille"
# crawler.distributed holds the `worker` spider of distributed mode, so that
# `scrapy crawl worker` (and Scrapyd, which runs spiders by name) finds it.
SPIDER_MODULES = ["crawler.spiders", "crawler.distributed"]
NEWSPIDER_MODULE = "crawler.spiders"

# One User-Agent, set here only. The contact URL lets an outlet's admin reach
# whoever runs the crawl; set VEILLE_CONTACT to your own page or mailto: link.
CONTACT_URL = os.environ.get("VEILLE_CONTACT", "https://github.com/veille-archive/veille")
USER_AGENT = f"veille/{__version__} (outlet-monitoring archive; +{CONTACT_URL})"

ROBOTSTXT_OBEY = True

# At most 2 connections per site, as a reader with two tabs would; AutoThrottle
# then spaces requests by the site's own response times.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# Retries with exponential backoff; Retry-After is honoured (see middlewares.py).
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [408, 429, 500, 502, 503, 504, 522, 524]
RETRY_BACKOFF_BASE = 2.0  # seconds before the first retry; doubled each time
RETRY_BACKOFF_MAX = 120.0  # a Retry-After longer than this gives up on the URL for this run

DOWNLOAD_TIMEOUT = 30
# A news article is well under 2 MB; 10 MB bounds what a hostile page can cost.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
REDIRECT_MAX_TIMES = 5

# Cookies are not needed to read news, and a cookie jar grows with every site.
COOKIES_ENABLED = False
# No control port on a crawler: the telnet console and Scrapy's remote-control
# HTTP endpoint would let anyone on the machine drive the crawl.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.RobotsRfcMiddleware": 100,
    "crawler.middlewares.OutletScopeMiddleware": 50,  # before robots.txt is even asked
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
}
ITEM_PIPELINES = {
    "crawler.pipelines.ArchivePipeline": 300,
}

# Discovery bounds: how far section pages are followed, so that calendars,
# endless pagination and search pages cannot keep a crawl busy.
VEILLE_HUB_DEPTH = 2  # homepage → section → its pagination
VEILLE_MAX_HUBS_PER_OUTLET = 300
VEILLE_MAX_PAGINATION = 50
VEILLE_FOLLOW_ARTICLE_LINKS = True  # related-article links on article pages

# Queues go to disk under JOBDIR (set per archive by `python -m crawler`), so a
# killed crawl resumes where it stopped; fingerprints are kept for the run only.
DUPEFILTER_CLASS = "crawler.dupefilter.RunDupeFilter"
SCHEDULER_DISK_QUEUE = "crawler.queues.DiskQueue"  # whole records even on a full disk
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"

LOG_LEVEL = "INFO"
LOG_FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"

# Extraction runs in a process pool (archive/pool.py) so the crawl uses every core;
# results are written in batches by this process, SQLite's single writer.
VEILLE_EXTRACT_WORKERS = None  # worker processes; None = one per core; 0 or 1 = in-process
VEILLE_EXTRACT_WINDOW = 0  # pages in the pool at once; 0 = 32 per worker (bounded memory)
VEILLE_WRITE_BATCH = 50  # pages written per transaction
VEILLE_WRITE_INTERVAL = 0.5  # seconds between writes when pages arrive slowly
