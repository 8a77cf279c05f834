"""The directory's web front (issue 18): 查询公示 and 异议申诉 for the public, the handlers' desk. docs/web.md."""

from flows.web.app import create_app

__all__ = ["create_app"]
