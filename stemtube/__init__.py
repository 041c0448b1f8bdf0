"""StemTube: a self-hosted music server that splits songs into stems."""

from importlib import metadata

try:
    __version__ = metadata.version("stemtube")
except metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"
