//! quarry-trainer: the MoE transformer trainer.
