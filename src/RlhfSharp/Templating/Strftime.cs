using System.Globalization;
using System.Text;

namespace RlhfSharp.Templating;

/// <summary>
/// Python's datetime.strftime in the C locale, for transformers' strftime_now (Llama 3.1 writes "%d %b %Y"). "%-d"
/// drops the padding as glibc does. An unknown directive is an error.
/// </summary>
internal static class Strftime
{
    public static string Format(DateTime time, string format)
    {
        var culture = CultureInfo.InvariantCulture;
        var result = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length) { result.Append(format[i]); continue; }
            bool unpadded = format[i + 1] == '-' && i + 2 < format.Length;
            if (unpadded) i++;
            char directive = format[++i];
            string Pad(int value, int width) => unpadded ? value.ToString(culture) : value.ToString(culture).PadLeft(width, '0');
            int hour12 = time.Hour % 12 == 0 ? 12 : time.Hour % 12;
            result.Append(directive switch
            {
                'a' => time.ToString("ddd", culture),
                'A' => time.ToString("dddd", culture),
                'w' => ((int)time.DayOfWeek).ToString(culture),
                'd' => Pad(time.Day, 2),
                'e' => time.Day.ToString(culture).PadLeft(2),
                'b' or 'h' => time.ToString("MMM", culture),
                'B' => time.ToString("MMMM", culture),
                'm' => Pad(time.Month, 2),
                'y' => Pad(time.Year % 100, 2),
                'Y' => time.Year.ToString(culture),
                'H' => Pad(time.Hour, 2),
                'I' => Pad(hour12, 2),
                'p' => time.Hour < 12 ? "AM" : "PM",
                'M' => Pad(time.Minute, 2),
                'S' => Pad(time.Second, 2),
                'f' => (time.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", culture),
                'j' => Pad(time.DayOfYear, 3),
                'F' => time.ToString("yyyy-MM-dd", culture),
                'T' => time.ToString("HH:mm:ss", culture),
                'D' => time.ToString("MM/dd/yy", culture),
                'c' => time.ToString("ddd MMM ", culture) + time.Day.ToString(culture).PadLeft(2) + time.ToString(" HH:mm:ss yyyy", culture),
                'x' => time.ToString("MM/dd/yy", culture),
                'X' => time.ToString("HH:mm:ss", culture),
                '%' => "%",
                _ => throw new TemplateRuntimeException($"strftime directive '%{directive}' is not supported"),
            });
        }
        return result.ToString();
    }
}
