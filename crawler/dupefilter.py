"""A duplicate filter that forgets between runs, even when JOBDIR keeps the queue.

With JOBDIR, Scrapy persists both the pending requests and the fingerprints of
every request already scheduled. After a crash the second is harmful: a request
that was being downloaded when the process died is "seen" but never completed,
so a resumed run would never fetch it again. veille's memory across runs is the
archive itself (an archived article is not requested again), so the filter only
needs to hold the current run's fingerprints; the queue still resumes from disk.
"""

from __future__ import annotations

from scrapy.dupefilters import RFPDupeFilter


class RunDupeFilter(RFPDupeFilter):
    @classmethod
    def from_crawler(cls, crawler):
        fingerprinter = crawler.request_fingerprinter
        debug = crawler.settings.getbool("DUPEFILTER_DEBUG")
        return cls(path=None, debug=debug, fingerprinter=fingerprinter)
