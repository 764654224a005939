"""Datasets: Fashion-MNIST from its raw IDX files, and the seed's teacher network.

The embedded default data of the command line is scikit-learn's
:func:`sklearn.datasets.load_digits`.
"""

from ._fashion_mnist import FASHION_MNIST_CLASSES, load_fashion_mnist
from ._teacher import make_teacher_network

__all__ = ["FASHION_MNIST_CLASSES", "load_fashion_mnist", "make_teacher_network"]
