"""Datasets: Fashion-MNIST from its raw IDX files, the seed's teacher network, and
a labelled table from a ``.npz`` or ``.csv`` file.

The embedded default data of the command line is scikit-learn's
:func:`sklearn.datasets.load_digits`. :func:`first_rows_per_class` is the TP5
notebook's selection of rows (the first ones of each class).

May import: numpy, scikit-learn and :mod:`skntk.utils`. Never torch, the
kernels, an estimator or the compare package: the data comes first.
"""

from ._fashion_mnist import FASHION_MNIST_CLASSES, load_fashion_mnist
from ._files import load_table
from ._select import first_rows_per_class
from ._teacher import make_teacher_network, teacher_labels

__all__ = ["FASHION_MNIST_CLASSES", "first_rows_per_class", "load_fashion_mnist",
           "load_table", "make_teacher_network", "teacher_labels"]
