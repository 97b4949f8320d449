"""The route families of the API, one module each."""
