"""The web app: server-rendered pages beside the JSON API, calling the same services.

``install(app)`` adds the pages at ``/`` and their assets at ``/static``; see docs/web.md.
"""

from mayknow.entrypoints.web.site import install

__all__ = ["install"]
