"""A run: the pipeline, its folder and the files it writes (reports, workbook, styles)."""
