"""nnviz: a from-scratch NumPy backprop engine for watching neural networks learn and break.

Imports no UI: the Streamlit pages live in pages/ and nnviz/ui/.
"""
from .io import ModelFileError, load_model, model_to_bytes, save_model
from .model import MLP, Architecture
from .training import Dataset, EpochStats, TrainConfig, Trainer, TrainingDiverged

__all__ = ["MLP", "Architecture", "Dataset", "EpochStats", "TrainConfig", "Trainer", "TrainingDiverged",
           "ModelFileError", "load_model", "model_to_bytes", "save_model"]
