// The API documentation page: Swagger UI over the server's /openapi.json.

window.SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger",
  deepLinking: true,
});
