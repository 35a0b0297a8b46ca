"""The code digest (render manifest, stored statements) hashes every input a report reads."""

from __future__ import annotations

from importlib import metadata

from seatscore.core import digest as manifest


def test_analysis_settings_and_calendar_version_are_inputs(tmp_path, monkeypatch):
    # A changed params/analysis.yaml (handle time of the Erlang C check) renders reports again.
    settings = tmp_path / "analysis.yaml"
    settings.write_text("staffing_adequacy: {handle_seconds: 150}\n", encoding="utf-8")
    before = manifest.code_digest(analysis=settings)
    settings.write_text("staffing_adequacy: {handle_seconds: 180}\n", encoding="utf-8")
    assert manifest.code_digest(analysis=settings) != before
    # So does a new chinesecalendar (a holiday notice changes working days and so grace periods).
    real = metadata.version

    def newer(name: str) -> str:
        return "99.0.0" if name == "chinesecalendar" else real(name)

    now = manifest.code_digest(analysis=settings)
    monkeypatch.setattr(manifest.metadata, "version", newer)
    assert manifest.code_digest(analysis=settings) != now
