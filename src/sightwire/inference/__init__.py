"""Vision models: the model registry, ONNX Runtime, decoders, readers, faces."""
