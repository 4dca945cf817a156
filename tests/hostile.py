"""A real model with hostile names, for the escaping tests (written on the fly, never committed).

:func:`hostile_model` copies the 7cec chain A model with residue 145 renamed to a script-closing
string and every atom's chain id replaced by one with both quote characters; coordinates are
untouched, so it still scores in the EMD-30342 map.
"""

from __future__ import annotations

from pathlib import Path

import gemmi

#: Residue name that would end a ``<script>`` and run another if written into HTML unescaped.
EVIL_RESNAME = "</script><script>window.qsInjected=1</script>"
#: A chain id with both quote characters.
EVIL_CHAIN = "A\"'"
#: The residue renamed.
EVIL_RESSEQ = 145
#: A model file name that is Markdown and HTML at once.
EVIL_FILE_NAME = "x<img src=x onerror=alert(1)>[link](https:evil)_$x$_.cif"


def hostile_model(source: Path, target: Path) -> Path:
    """Write the hostile copy of the mmCIF ``source`` to ``target`` and return ``target``."""
    doc = gemmi.cif.read(str(source))
    table = doc.sole_block().find_mmcif_category("_atom_site.")
    tags = [str(t) for t in table.tags]
    column = {tag.split(".", 1)[1]: k for k, tag in enumerate(tags)}
    quoted_chain = gemmi.cif.quote(EVIL_CHAIN)
    quoted_name = gemmi.cif.quote(EVIL_RESNAME)
    for row in table:
        for name in ("label_asym_id", "auth_asym_id"):
            row[column[name]] = quoted_chain
        if row.str(column["auth_seq_id"]) == str(EVIL_RESSEQ):
            for name in ("label_comp_id", "auth_comp_id"):
                row[column[name]] = quoted_name
    doc.write_file(str(target))
    return target
