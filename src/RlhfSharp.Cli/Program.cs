using RlhfSharp.Cli;

return CliApp.Run(args);
