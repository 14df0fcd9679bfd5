"""The backprop engine: the network, activations and losses, optimisers, the trainer, model files
and BLAS threads. NumPy only; imports nothing of nnviz outside this package."""
