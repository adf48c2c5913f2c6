using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RlhfSharp.Annotation;

/// <summary>
/// A request Kestrel refuses while the body is read (too large, cut off) is the client's error: answered with its status,
/// a JSON error and the security headers, and logged as one line, not as an unhandled exception with its stack.
/// </summary>
internal static class RequestErrors
{
    public static async Task Apply(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            string error = e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? $"the request body is larger than the limit of {AnnotationServer.MaxRequestBodyBytes} bytes"
                : "the request body could not be read";
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("RlhfSharp.Annotation")
                .LogWarning("{Status} {Method} {Path}: {Error}", e.StatusCode, context.Request.Method, context.Request.Path, error);
            context.Response.StatusCode = e.StatusCode;
            SecurityHeaders.Set(context.Response.Headers); // set before the failure, but a refused request's must not depend on that
            await context.Response.WriteAsJsonAsync(new { error });
        }
    }
}
