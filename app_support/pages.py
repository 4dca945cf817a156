"""The dashboard's page registry: one entry per page, grouped into sections of the sidebar menu.

To add a page, write ``views/<name>.py`` (a thin script that reads ``state.current()``, calls the
library and renders) and append a :class:`PageSpec` to :data:`PAGES`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    """A page script, its menu title and icon, and the sidebar section it belongs to."""

    path: str
    title: str
    icon: str
    section: str
    default: bool = False


PAGES: list[PageSpec] = [
    PageSpec("views/overview.py", "Overview", ":material/dashboard:", "Results", default=True),
    PageSpec("views/residues.py", "Per-residue", ":material/show_chart:", "Results"),
    PageSpec("views/structure.py", "3D structure", ":material/view_in_ar:", "Results"),
    PageSpec("views/molecules.py", "Ligands & glycans", ":material/hub:", "Results"),
    PageSpec("views/table.py", "Table & downloads", ":material/table_view:", "Results"),
    PageSpec("views/b_factors.py", "B-factors from Q", ":material/blur_on:", "Results"),
    PageSpec("views/local_resolution.py", "Local resolution", ":material/grain:", "Results"),
    PageSpec("views/compare.py", "Compare", ":material/compare:", "Results"),
    PageSpec("views/archive.py", "Archive statistics", ":material/query_stats:", "Archive"),
    PageSpec("views/gallery.py", "Scenario gallery", ":material/photo_library:", "Learn"),
    PageSpec("views/radial.py", "Radial profile", ":material/radar:", "Learn"),
    PageSpec("views/learn.py", "Reading Q-scores", ":material/school:", "Learn"),
    PageSpec("views/instructor.py", "Instructor's guide", ":material/co_present:", "Learn"),
]


def sections(pages: list[PageSpec] | None = None) -> dict[str, list[PageSpec]]:
    """Pages grouped by section, in registry order."""
    grouped: dict[str, list[PageSpec]] = {}
    for page in PAGES if pages is None else pages:
        grouped.setdefault(page.section, []).append(page)
    return grouped
