using RlhfSharp.Cli;

return CliApp.Run(args);

// Declared so that the entry point stays internal like the rest of the CLI (ASP.NET Core, which the annotation
// server brings in, would otherwise generate a public Program for its test host).
internal partial class Program;
