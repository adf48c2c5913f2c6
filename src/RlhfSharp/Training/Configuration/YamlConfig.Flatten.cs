using System.Text.Json.Serialization.Metadata;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.TypeInspectors;

namespace RlhfSharp.Training.Configuration;

public static partial class YamlConfig
{
    /// <summary>
    /// Shows YamlDotNet an options type as its <see cref="KeyProperties"/>: in place of a property marked
    /// <see cref="FlattenAttribute"/>, the keys of its record, read and written through it.
    /// </summary>
    sealed class FlattenedKeys(ITypeInspector inner) : TypeInspectorSkeleton
    {
        public override IEnumerable<IPropertyDescriptor> GetProperties(Type type, object? container)
        {
            var own = inner.GetProperties(type, container);
            var flattened = KeyProperties(type).Where(k => k.Path.Count > 1).ToList();
            if (flattened.Count == 0) return own;
            return own.SelectMany(property => flattened.Any(k => Key(k.Path[0].Name) == property.Name)
                ? flattened.Where(k => Key(k.Path[0].Name) == property.Name)
                    .Select(k => (IPropertyDescriptor)new ThroughComposed(k, inner.GetProperties(k.Path[^2].PropertyType, null).Single(m => m.Name == k.Key)))
                : [property]);
        }

        public override string GetEnumName(Type enumType, string name) => inner.GetEnumName(enumType, name);
        public override string GetEnumValue(object enumValue) => inner.GetEnumValue(enumValue);
        public override bool HasParseMethod(Type type) => inner.HasParseMethod(type);
        public override object? Parse(string value, Type type) => inner.Parse(value, type);
    }

    /// <summary>A member of a composed record as a key of the options object that holds the record.</summary>
    sealed class ThroughComposed(OptionKey key, IPropertyDescriptor member) : IPropertyDescriptor
    {
        public string Name => member.Name;
        public bool AllowNulls => member.AllowNulls;
        public bool CanWrite => member.CanWrite;
        public Type Type => member.Type;
        public Type? TypeOverride { get => member.TypeOverride; set => member.TypeOverride = value; }
        public int Order { get => member.Order; set => member.Order = value; }
        public ScalarStyle ScalarStyle { get => member.ScalarStyle; set => member.ScalarStyle = value; }
        public bool Required => member.Required;
        public Type? ConverterType => member.ConverterType;
        public T? GetCustomAttribute<T>() where T : Attribute => member.GetCustomAttribute<T>();
        public IObjectDescriptor Read(object target) => member.Read(key.Owner(target));
        public void Write(object target, object? value) => key.SetValue(target, value);
    }

    /// <summary>
    /// The same flattening for System.Text.Json (a <see cref="DefaultJsonTypeInfoResolver"/> modifier): an options record
    /// written into a JSON file (toxicity.json's options) shows its keys as <see cref="Save{T}"/> writes them, and reads back.
    /// </summary>
    public static void FlattenInJson(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object) return;
        var flattened = KeyProperties(info.Type).Where(k => k.Path.Count > 1).ToList();
        if (flattened.Count == 0) return;
        var properties = info.Properties.ToList();
        info.Properties.Clear();
        foreach (var property in properties)
        {
            var members = flattened.Where(k => k.Path[0] == property.AttributeProvider as System.Reflection.PropertyInfo).ToList();
            if (members.Count == 0) info.Properties.Add(property);
            foreach (var key in members)
            {
                var member = info.CreateJsonPropertyInfo(key.Type, info.Options.PropertyNamingPolicy?.ConvertName(key.Name) ?? key.Name);
                member.Get = key.GetValue;
                member.Set = key.SetValue;
                info.Properties.Add(member);
            }
        }
    }
}
