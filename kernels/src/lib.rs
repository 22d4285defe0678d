//! quarry-kernels: CUDA kernels with their CPU references.
