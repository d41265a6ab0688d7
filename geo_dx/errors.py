"""Exceptions and warnings raised by geo_dx.

``GeoDxError`` is the root. Problems with what the user gave us (files, columns,
values, configuration) raise :class:`InputError`, which is also a ``ValueError``;
the CLI turns it into one readable line and exit code 2.
"""

from __future__ import annotations


class GeoDxError(Exception):
    """Root of every exception geo_dx raises on purpose."""


class InputError(GeoDxError, ValueError):
    """A user-fixable problem with an input file, a column, a value or the configuration."""


class ConfigError(InputError):
    """A problem with the TOML configuration or a command-line override."""


class MissingDependencyError(GeoDxError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""


class GeoDxWarning(UserWarning):
    """A recoverable oddity in the input (repaired geometry, capped range, ...).

    Every one raised during a run is counted in ``summary.json``.
    """


class OutputError(GeoDxError, OSError):
    """The run's outputs could not be written (disk full, read-only, a file in use).

    The previous contents of the output folder are left as they were.
    """
