"""first_rows_per_class: the TP5 notebook's selection of rows."""

import numpy as np
import pytest

from skntk.datasets import first_rows_per_class


def test_first_rows_of_each_class_in_row_order():
    y = np.array(["b", "a", "b", "a", "a", "b", "a"])
    np.testing.assert_array_equal(first_rows_per_class(y, 4), [0, 1, 2, 3])
    # the remainder goes to the first classes (sorted), one row each
    np.testing.assert_array_equal(first_rows_per_class(y, 5), [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(first_rows_per_class(y, 3), [0, 1, 3])


def test_too_few_rows_of_a_class():
    with pytest.raises(ValueError, match="class 1 has only 1 rows, 2 are needed"):
        first_rows_per_class([0, 0, 1], 4)
