"""nplab: analysis of preclinical neuropathic-pain drug studies.

Capabilities live in submodules named after what they do in the lab:
``nplab.vonfrey`` (up-down thresholds), ``nplab.hargreaves`` (thermal latencies),
``nplab.doseresponse`` (concentration–response fitting), ``nplab.ephys``
(patch-clamp recordings) and ``nplab.stats`` (group statistics).  Shared plumbing:
``nplab.errors``, ``nplab.tables`` (reading and atomic writing of tables),
``nplab.protocols`` (protocol registry) and ``nplab.provenance``.
"""

from importlib.metadata import PackageNotFoundError, version

from nplab.errors import InputError, NplabError, ProtocolError

try:
    __version__ = version("nplab")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["InputError", "NplabError", "ProtocolError", "__version__"]
