"""The media stores (local disk and S3) for the tests in this folder."""

from knock.features.media.tests.stores import media_url, s3_endpoint

__all__ = ["media_url", "s3_endpoint"]
