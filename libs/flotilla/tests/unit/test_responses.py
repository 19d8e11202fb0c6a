from fastapi import FastAPI

from flotilla.responses import MALFORMED_BODY, UNAUTHORIZED, error_response


def test_documented_errors_appear_in_the_schema_with_the_detail_shape() -> None:
    app = FastAPI()

    @app.post("/things", responses={**UNAUTHORIZED, **MALFORMED_BODY, **error_response(404, "No")})
    async def create() -> None: ...

    responses = app.openapi()["paths"]["/things"]["post"]["responses"]
    schemas = app.openapi()["components"]["schemas"]

    assert {"400", "401", "404"} <= set(responses)
    assert responses["404"]["description"] == "No"
    reference = responses["401"]["content"]["application/json"]["schema"]["$ref"]
    assert reference == "#/components/schemas/ErrorMessage"
    assert schemas["ErrorMessage"]["required"] == ["detail"]
