namespace RlhfSharp.Data;

internal enum ChatRole { System, User, Assistant }
