"""Former name of :mod:`helpers.dst.contract` (the DST data contract), kept so that code written against it runs."""

from .contract import *  # noqa: F403
from .contract import __all__  # noqa: F401
