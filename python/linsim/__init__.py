"""linsim: similarities that mean something, for embeddings learned from interaction data.

The Python face of the linsim library (docs/python.md): the paper's models (Steck, Ekanadham,
Kallus 2024) fitted in closed form, similarities under every measure including the gauge-free
"projected" one, the audit of anyone's embeddings, the simulation and the paper's reproduction.
Models are saved in the command-line tool's model directory format and read back by it.
"""

from ._linsim import (__version__, configure_direct_writes, configure_gemm, configure_huge_pages, gemm_backend,
                      max_threads)
from ._inputs import Interactions, as_csr, from_dataframe, read_interactions
from ._models import EASE, EQ1, EQ2, MEASURES, SPPMI, CosineTrained, Model, load
from ._tools import audit, evaluate, reproduce, simulate

__all__ = [
    "EASE", "EQ1", "EQ2", "SPPMI", "CosineTrained", "Model", "MEASURES", "Interactions", "load", "audit", "evaluate",
    "simulate", "reproduce", "read_interactions", "from_dataframe", "as_csr", "configure_gemm",
    "configure_huge_pages", "configure_direct_writes", "gemm_backend", "max_threads", "__version__",
]
