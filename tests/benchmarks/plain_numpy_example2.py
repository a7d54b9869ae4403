"""Example 2 trained by a plain NumPy loop: the baseline the engine is measured against.

Usage: python plain_numpy_example2.py ITERATIONS
Prints the final loss and parameters so the benchmark can check both runs agree.
"""

import sys

import numpy as np

iterations = int(sys.argv[1])
x = np.array([[2.0, -1.0, 1.0], [-1.0, 2.0, 3.0], [1.0, 1.5, 0.5]])  # (samples, inputs)
y = np.array([[3.0], [4.0], [5.0]])  # (samples, outputs)
w = np.ones((1, 3))
b = np.array([0.5])
learning_rate = 0.01
n = x.shape[0]

for _ in range(iterations):
    y_hat = x @ w.T + b
    error = y_hat - y
    loss = float(((error**2).sum(axis=1) / n).sum())
    grad_y_hat = (2.0 / n) * error
    w -= learning_rate * (grad_y_hat.T @ x)
    b -= learning_rate * grad_y_hat.sum(axis=0)

print(loss, *w.ravel(), *b)
