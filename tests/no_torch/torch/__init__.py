# Put first on PYTHONPATH by tests that prove generation never imports torch.
raise ImportError("torch must not be imported while generating")
