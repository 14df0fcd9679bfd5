"""The data: the 2-D toy generators (an rng passed in) and MNIST (the bundled digits beside this
file, and the verified opt-in download). Imports only the engine (its Dataset)."""
