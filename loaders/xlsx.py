"""XLSX exports (`format: xlsx`): one sheet (`sheet`, default the first), its column names on
`header_row` (default 1), data rows below. Read in openpyxl's read-only mode, which streams the
sheet rather than building it in memory, with the values a spreadsheet last computed."""
from __future__ import annotations

from pathlib import Path

from creditgraph.loaders.cells import date_columns, raw_line, row_texts
from creditgraph.loaders.manifest import SourceSpec


class SheetError(ValueError):
    """The sheet cannot be read at all: a failed source, not a reject."""


def sheet_rows(path: Path, source: SourceSpec):
    """(label, header, rows): the label names file and sheet (`court.xlsx[名单]`, the rejects'
    `file`); rows yields (row number in the sheet, texts, raw, problem) for each non-empty row
    below the header, problem being (column, reason) or None."""
    from openpyxl import load_workbook  # only a manifest with an XLSX source needs it

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # not a zip, not a workbook, unreadable: openpyxl raises many kinds
        raise SheetError(f"cannot read {path} as XLSX: {e}") from None
    try:
        sheet = _sheet(book, source, path)
    except SheetError:
        book.close()
        raise
    label = f"{path}[{sheet.title}]"
    rows = sheet.iter_rows(min_row=source.header_row, values_only=True)
    header = _trimmed([("" if v is None else str(v)).strip() for v in next(rows, ())])
    if not header:
        book.close()
        raise SheetError(f"{Path(label).name} has no column names on row {source.header_row}")
    return label, header, _data(book, rows, source, header)


def _sheet(book, source: SourceSpec, path: Path):
    if source.sheet is None:
        return book.worksheets[0]
    if source.sheet not in book.sheetnames:
        raise SheetError(f"{path.name} has no sheet {source.sheet!r}; its sheets: {book.sheetnames}")
    return book[source.sheet]


def _data(book, rows, source: SourceSpec, header: list[str]):
    read, dates = source.columns(), date_columns(source)
    try:
        for number, values in enumerate(rows, source.header_row + 1):
            values = _trimmed(list(values))
            if all(v is None or isinstance(v, str) and not v.strip() for v in values):
                continue  # an empty row, as a blank line in a CSV
            texts, problem = row_texts(header, values, read, dates, spreadsheet=True)
            texts += [""] * (len(header) - len(texts))  # a sheet's short row is empty cells, not a ragged one
            yield number, texts, raw_line(texts), problem
    finally:
        book.close()


def _trimmed(values: list) -> list:
    """Without the empty cells at the end (a sheet's rows are as wide as its widest)."""
    while values and (values[-1] is None or values[-1] == ""):
        values.pop()
    return values
