"""pyfastnn.data: datasets and batching (PyTorch's torch.utils.data names)."""

from .dataset import Dataset, Subset, TensorDataset, random_split
from .loader import DataLoader, default_collate
from . import datasets, transforms
from .preprocessing import MinMaxScaler, StandardScaler, one_hot, to_categorical, train_test_split

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "DataLoader", "default_collate", "datasets",
           "transforms", "train_test_split", "StandardScaler", "MinMaxScaler", "to_categorical", "one_hot"]
