"""nnviz: a from-scratch NumPy backprop engine for watching neural networks learn and break.

Imports no UI: the Streamlit pages live in pages/ and nnviz/ui/.
"""
from nnviz.engine.model import MLP, Architecture
from nnviz.engine.model_files import (
           ModelFileError,
           load_model,
           model_to_bytes,
           save_model,
)
from nnviz.engine.training import (
           Dataset,
           EpochStats,
           TrainConfig,
           Trainer,
           TrainingDiverged,
)

__all__ = ["MLP", "Architecture", "Dataset", "EpochStats", "TrainConfig", "Trainer", "TrainingDiverged",
           "ModelFileError", "load_model", "model_to_bytes", "save_model"]
