using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace RlhfSharp.Annotation;

/// <summary>
/// Personal-link authentication: the token from "Authorization: Bearer" or "?token=". None or an unknown one is a 401;
/// an annotator on an admin endpoint is a 403. The annotator found is kept on the request.
/// </summary>
internal static class TokenAuth
{
    static readonly object Key = new();

    public static RouteHandlerBuilder RequireToken(this RouteHandlerBuilder endpoint, bool admin = false) =>
        endpoint.AddEndpointFilter(async (invocation, next) =>
        {
            var http = invocation.HttpContext;
            string? token = TokenOf(http.Request);
            if (string.IsNullOrEmpty(token)) return Refuse(http, StatusCodes.Status401Unauthorized, "a token is required (use your personal link)");
            var annotator = http.RequestServices.GetRequiredService<AnnotationStore>().FindAnnotator(token);
            if (annotator is null) return Refuse(http, StatusCodes.Status401Unauthorized, "unknown token");
            if (admin && !annotator.IsAdmin) return Refuse(http, StatusCodes.Status403Forbidden, "admins only");
            http.Items[Key] = annotator;
            return await next(invocation);
        });

    /// <summary>The annotator authenticated by <see cref="RequireToken"/>.</summary>
    public static Annotator Annotator(this HttpContext http) => (Annotator)http.Items[Key]!;

    static string? TokenOf(HttpRequest request)
    {
        string header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : request.Query["token"].ToString();
    }

    static IResult Refuse(HttpContext http, int status, string message)
    {
        if (status == StatusCodes.Status401Unauthorized) http.Response.Headers.WWWAuthenticate = "Bearer";
        return http.Request.Path.StartsWithSegments("/api") ? Results.Json(new { error = message }, statusCode: status) : Results.Text(message, statusCode: status);
    }
}
