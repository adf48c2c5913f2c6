using Microsoft.AspNetCore.Http;

namespace RlhfSharp.Annotation;

/// <summary>
/// Headers on every response. The pages show untrusted model text (inserted as text, never markup); the policy is the
/// second line of defence: only this server's own scripts and styles run, nothing inline, nothing framed.
/// </summary>
internal static class SecurityHeaders
{
    const string Policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static Task Apply(HttpContext context, RequestDelegate next)
    {
        Set(context.Response.Headers);
        return next(context);
    }

    public static void Set(IHeaderDictionary headers)
    {
        headers.ContentSecurityPolicy = Policy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer"; // links carry tokens in the query
        headers.CacheControl = "no-store";
    }
}
