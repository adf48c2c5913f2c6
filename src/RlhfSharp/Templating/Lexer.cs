using System.Globalization;
using System.Text;

namespace RlhfSharp.Templating;

internal enum TokenKind { Data, VariableBegin, VariableEnd, BlockBegin, BlockEnd, Name, String, Integer, Float, Operator, End }

/// <summary>One token; <see cref="Value"/> is the text (a string literal's already decoded), <see cref="Line"/> 1-based.</summary>
internal readonly record struct Token(TokenKind Kind, string Value, int Line)
{
    public bool Is(TokenKind kind, string value) => Kind == kind && Value == value;

    public bool IsName(string name) => Is(TokenKind.Name, name);

    public bool IsOperator(string op) => Is(TokenKind.Operator, op);

    public string Describe() => Kind switch
    {
        TokenKind.End => "end of template",
        TokenKind.BlockEnd => "end of statement block",
        TokenKind.VariableEnd => "end of print statement",
        TokenKind.String => "string literal",
        TokenKind.Data => "template data",
        _ => $"'{Value}'",
    };
}

/// <summary>
/// Splits a template into tokens as Jinja2's lexer does with trim_blocks and lstrip_blocks on (transformers' chat template
/// settings): line endings become "\n" and one trailing newline is dropped; "{%-"/"{{-"/"{#-" strip all whitespace
/// before the tag and "-%}"/"-}}"/"-#}" all whitespace after; a block or comment tag alone on its line after nothing but
/// spaces takes them with it (lstrip_blocks, unless "{%+"); the first newline after "%}" or "#}" is dropped (trim_blocks,
/// unless "+%}"). Comments vanish; {% raw %} bodies come out as data.
/// </summary>
internal sealed class Lexer
{
    static readonly string[] Operators = ["//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}",
        ">", "<", "=", ".", ":", "|", ",", ";"];

    readonly string _source;
    readonly string _templateName;
    readonly int[] _lineStarts;
    readonly List<Token> _tokens = [];
    int _pos;
    // Jinja2's line_starting: whether the text matched last ended with a newline (lstrip_blocks then applies to a tag at
    // the very start of the following text).
    bool _lineStarting = true;

    Lexer(string source, string templateName)
    {
        _source = NormalizeNewlines(source);
        _templateName = templateName;
        var starts = new List<int> { 0 };
        for (int i = 0; i < _source.Length; i++)
            if (_source[i] == '\n') starts.Add(i + 1);
        _lineStarts = [.. starts];
    }

    public static List<Token> Tokenize(string source, string templateName)
    {
        var lexer = new Lexer(source, templateName);
        lexer.Run();
        return lexer._tokens;
    }

    /// <summary>"\r\n" and "\r" become "\n"; one trailing newline is dropped (Jinja2's keep_trailing_newline=False).</summary>
    internal static string NormalizeNewlines(string source)
    {
        string text = source.Replace("\r\n", "\n").Replace('\r', '\n');
        return text.EndsWith('\n') ? text[..^1] : text;
    }

    int LineAt(int position)
    {
        int index = Array.BinarySearch(_lineStarts, position);
        return index >= 0 ? index + 1 : ~index;
    }

    TemplateException Error(int position, string problem) => new(_templateName, LineAt(position), problem);

    void Add(TokenKind kind, string value, int position) => _tokens.Add(new Token(kind, value, LineAt(position)));

    void Run()
    {
        while (_pos < _source.Length)
        {
            int tag = NextTagStart(_pos);
            if (tag < 0)
            {
                Add(TokenKind.Data, _source[_pos..], _pos);
                break;
            }
            char kind = _source[tag + 1];
            string sign = tag + 2 < _source.Length && _source[tag + 2] is '-' or '+' ? _source[tag + 2].ToString() : "";
            string text = _source[_pos..tag];
            bool lstrip = kind != '{';
            if (sign == "-") text = TrimEndPython(text);
            else if (sign != "+" && lstrip) text = LeftStripBlock(text);
            if (text.Length > 0) Add(TokenKind.Data, text, _pos);

            if (kind == '%' && RawBlockEnd(tag) is int rawBodyStart)
            {
                _pos = rawBodyStart;
                Raw(tag);
                continue;
            }
            _pos = tag + 2 + sign.Length;
            _lineStarting = false;
            switch (kind)
            {
                case '#': Comment(tag); break;
                case '%': Add(TokenKind.BlockBegin, "{%", tag); InsideTag(block: true, tag); break;
                default: Add(TokenKind.VariableBegin, "{{", tag); InsideTag(block: false, tag); break;
            }
        }
        Add(TokenKind.End, "", _source.Length);
    }

    /// <summary>Where the next "{{", "{%" or "{#" begins at or after <paramref name="from"/>; -1 when none does.</summary>
    int NextTagStart(int from)
    {
        for (int i = _source.IndexOf('{', from); i >= 0 && i + 1 < _source.Length; i = _source.IndexOf('{', i + 1))
            if (_source[i + 1] is '{' or '%' or '#') return i;
        return -1;
    }

    /// <summary>lstrip_blocks: spaces between the last line start and the tag go, where they are all the line holds.</summary>
    string LeftStripBlock(string text)
    {
        int lineStart = text.LastIndexOf('\n') + 1;
        if (lineStart == 0 && !_lineStarting) return text;
        for (int i = lineStart; i < text.Length; i++)
            if (!IsPythonSpace(text[i])) return text;
        return text[..lineStart];
    }

    void Comment(int tag)
    {
        for (int i = _pos; i < _source.Length; i++)
        {
            if (At(i, "+#}")) { Finish(i + 3, trim: false, stripAll: false); return; }
            if (At(i, "-#}")) { Finish(i + 3, trim: false, stripAll: true); return; }
            if (At(i, "#}")) { Finish(i + 2, trim: true, stripAll: false); return; }
        }
        throw Error(tag, "missing end of comment tag '#}'");
    }

    /// <summary>Moves past a closing tag ending at <paramref name="end"/>: "-" takes all whitespace after it, trim_blocks one newline.</summary>
    void Finish(int end, bool trim, bool stripAll)
    {
        _pos = end;
        if (stripAll)
            while (_pos < _source.Length && IsPythonSpace(_source[_pos])) _pos++;
        else if (trim && _pos < _source.Length && _source[_pos] == '\n') _pos++;
        _lineStarting = _pos > 0 && _source[_pos - 1] == '\n';
    }

    bool At(int i, string text) => string.CompareOrdinal(_source, i, text, 0, text.Length) == 0;

    void InsideTag(bool block, int tag)
    {
        var brackets = new Stack<(char Close, int Position)>();
        while (true)
        {
            if (_pos >= _source.Length) throw Error(tag, $"unexpected end of template: {(block ? "'%}'" : "'}}'")} missing");
            if (brackets.Count == 0)
            {
                if (block)
                {
                    if (At(_pos, "+%}")) { Add(TokenKind.BlockEnd, "%}", _pos); Finish(_pos + 3, trim: false, stripAll: false); return; }
                    if (At(_pos, "-%}")) { Add(TokenKind.BlockEnd, "%}", _pos); Finish(_pos + 3, trim: false, stripAll: true); return; }
                    if (At(_pos, "%}")) { Add(TokenKind.BlockEnd, "%}", _pos); Finish(_pos + 2, trim: true, stripAll: false); return; }
                }
                else
                {
                    if (At(_pos, "-}}")) { Add(TokenKind.VariableEnd, "}}", _pos); Finish(_pos + 3, trim: false, stripAll: true); return; }
                    if (At(_pos, "}}")) { Add(TokenKind.VariableEnd, "}}", _pos); Finish(_pos + 2, trim: false, stripAll: false); return; }
                }
            }
            char c = _source[_pos];
            if (IsPythonSpace(c)) { _pos++; continue; }
            if (char.IsAsciiDigit(c)) { Number(); continue; }
            if (c == '_' || char.IsLetter(c)) { Name(); continue; }
            if (c is '\'' or '"') { String(); continue; }
            string? op = Operators.FirstOrDefault(o => At(_pos, o)) ?? throw Error(_pos, $"unexpected character '{c}'");
            if (op is "(" or "[" or "{") brackets.Push((op switch { "(" => ')', "[" => ']', _ => '}' }, _pos));
            else if (op is ")" or "]" or "}")
            {
                if (brackets.Count == 0) throw Error(_pos, $"unexpected '{op}'");
                var (close, _) = brackets.Pop();
                if (op[0] != close) throw Error(_pos, $"unexpected '{op}', expected '{close}'");
            }
            Add(TokenKind.Operator, op, _pos);
            _pos += op.Length;
        }
    }

    void Name()
    {
        int start = _pos;
        while (_pos < _source.Length && (_source[_pos] == '_' || char.IsLetterOrDigit(_source[_pos]))) _pos++;
        Add(TokenKind.Name, _source[start.._pos], start);
    }

    /// <summary>Integers and floats as Jinja2 reads them ("1.5", "2e3", "1_000"); "1." is the integer 1 and a dot.</summary>
    void Number()
    {
        int start = _pos;
        Digits();
        bool isFloat = false;
        if (_pos + 1 < _source.Length && _source[_pos] == '.' && char.IsAsciiDigit(_source[_pos + 1]))
        {
            _pos++;
            Digits();
            isFloat = true;
        }
        if (_pos < _source.Length && _source[_pos] is 'e' or 'E')
        {
            int mark = _pos++;
            if (_pos < _source.Length && _source[_pos] is '+' or '-') _pos++;
            if (_pos < _source.Length && char.IsAsciiDigit(_source[_pos])) { Digits(); isFloat = true; }
            else _pos = mark;
        }
        Add(isFloat ? TokenKind.Float : TokenKind.Integer, _source[start.._pos].Replace("_", ""), start);

        void Digits()
        {
            while (_pos < _source.Length && (char.IsAsciiDigit(_source[_pos]) || (_source[_pos] == '_' && _pos + 1 < _source.Length && char.IsAsciiDigit(_source[_pos + 1]))))
                _pos++;
        }
    }

    void String()
    {
        int start = _pos;
        char quote = _source[_pos++];
        var text = new StringBuilder();
        while (true)
        {
            if (_pos >= _source.Length) throw Error(start, "unterminated string literal");
            char c = _source[_pos++];
            if (c == quote) break;
            if (c != '\\') { text.Append(c); continue; }
            if (_pos >= _source.Length) throw Error(start, "unterminated string literal");
            Escape(text, start);
        }
        Add(TokenKind.String, text.ToString(), start);
    }

    /// <summary>Python's string escapes (Jinja2 decodes literals with "unicode-escape"); an unknown escape stays as written.</summary>
    void Escape(StringBuilder text, int literalStart)
    {
        char c = _source[_pos++];
        switch (c)
        {
            case '\n': break;
            case '\\': text.Append('\\'); break;
            case '\'': text.Append('\''); break;
            case '"': text.Append('"'); break;
            case 'a': text.Append('\a'); break;
            case 'b': text.Append('\b'); break;
            case 'f': text.Append('\f'); break;
            case 'n': text.Append('\n'); break;
            case 'r': text.Append('\r'); break;
            case 't': text.Append('\t'); break;
            case 'v': text.Append('\v'); break;
            case 'x': text.Append(HexEscape(2, literalStart)); break;
            case 'u': text.Append(HexEscape(4, literalStart)); break;
            case 'U': text.Append(HexEscape(8, literalStart)); break;
            case >= '0' and <= '7':
                int value = c - '0';
                for (int n = 1; n < 3 && _pos < _source.Length && _source[_pos] is >= '0' and <= '7'; n++) value = value * 8 + (_source[_pos++] - '0');
                text.Append(char.ConvertFromUtf32(value));
                break;
            default: text.Append('\\').Append(c); break;
        }
    }

    string HexEscape(int digits, int literalStart)
    {
        if (_pos + digits > _source.Length
            || !int.TryParse(_source.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code)
            || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
            throw Error(literalStart, $"bad \\{_source[_pos - 1]} escape in string literal");
        _pos += digits;
        return char.ConvertFromUtf32(code);
    }

    /// <summary>"{% raw %}" (with optional "-"/"+" and spaces) starting at <paramref name="tag"/>: where its body begins.</summary>
    int? RawBlockEnd(int tag)
    {
        int i = tag + 2;
        if (i < _source.Length && _source[i] is '-' or '+') i++;
        while (i < _source.Length && IsPythonSpace(_source[i])) i++;
        if (!At(i, "raw")) return null;
        i += 3;
        while (i < _source.Length && IsPythonSpace(_source[i])) i++;
        if (At(i, "-%}"))
        {
            i += 3;
            while (i < _source.Length && IsPythonSpace(_source[i])) i++;
            return i;
        }
        return At(i, "%}") ? i + 2 : null;
    }

    /// <summary>A raw body runs to "{% endraw %}" and is data as written (whitespace control and lstrip_blocks apply to the end tag).</summary>
    void Raw(int tag)
    {
        for (int i = _source.IndexOf("{%", _pos, StringComparison.Ordinal); i >= 0; i = _source.IndexOf("{%", i + 2, StringComparison.Ordinal))
        {
            int j = i + 2;
            string sign = j < _source.Length && _source[j] is '-' or '+' ? _source[j++].ToString() : "";
            while (j < _source.Length && IsPythonSpace(_source[j])) j++;
            if (!At(j, "endraw")) continue;
            j += 6;
            while (j < _source.Length && IsPythonSpace(_source[j])) j++;
            _lineStarting = _pos > 0 && _source[_pos - 1] == '\n';
            string text = _source[_pos..i];
            if (sign == "-") text = TrimEndPython(text);
            else if (sign != "+") text = LeftStripBlock(text);
            if (text.Length > 0) Add(TokenKind.Data, text, _pos);
            if (At(j, "+%}")) Finish(j + 3, trim: false, stripAll: false);
            else if (At(j, "-%}")) Finish(j + 3, trim: false, stripAll: true);
            else if (At(j, "%}")) Finish(j + 2, trim: true, stripAll: false);
            else continue;
            return;
        }
        throw Error(tag, "missing '{% endraw %}'");
    }

    /// <summary>Python's str.isspace for one character (it counts U+001C..U+001F, which .NET does not).</summary>
    internal static bool IsPythonSpace(char c) => char.IsWhiteSpace(c) || c is >= '\x1c' and <= '\x1f';

    internal static string TrimEndPython(string text)
    {
        int end = text.Length;
        while (end > 0 && IsPythonSpace(text[end - 1])) end--;
        return text[..end];
    }
}
