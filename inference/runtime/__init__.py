"""The backend-independent consumer runtime (see :mod:`inference.runtime.consumer`)."""
