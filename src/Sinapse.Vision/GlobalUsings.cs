// System.Numerics.Tensors has a Tensor type of its own; in this library "Tensor" always means ours.
global using Tensor = Sinapse.Tensors.Tensor;
