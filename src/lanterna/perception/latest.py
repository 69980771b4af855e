"""The latest observation of one session: what element ids resolve against until the next one."""

from __future__ import annotations

from dataclasses import dataclass

from playwright.async_api import Page

from lanterna.models.observation import Observation


@dataclass
class LatestObservation:
    """A session's latest observation and the tab it was taken of.

    Whoever owns the session keeps one of these for it and hands it to ``observe`` (which
    replaces it) and to ``execute`` (whose element ids are looked up in it).
    """

    observation: Observation | None = None
    page: Page | None = None  # the tab ``observation`` was taken of

    def remember(self, observation: Observation, page: Page) -> None:
        self.observation = observation
        self.page = page

    def forget(self) -> None:
        self.observation = None
        self.page = None
