namespace RlhfSharp.Annotation;

/// <summary>A judge's answer in SCREEN terms: the side they preferred, which the store maps back to model A or B.</summary>
public enum ScreenChoice { Left, Right, Tie }
