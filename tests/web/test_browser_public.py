"""The public pages driven in headless Chromium (Debian's), on a small typed province."""

from __future__ import annotations


def test_home_page_offers_the_search_in_chinese(page):
    page.goto("/")
    assert page.locator("h1").inner_text() == "个体工商户分型结果查询"
    assert page.get_by_role("searchbox").is_visible()
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
