"""The HTTP API (`batchtui serve`): the seed's `/v1/batch` endpoints over the service."""
