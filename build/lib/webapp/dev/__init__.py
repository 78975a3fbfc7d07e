"""Development tooling: the private servers of `make run` and the tests, demo traffic, and the
Postman collection generated from the OpenAPI document."""
