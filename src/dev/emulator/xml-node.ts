// The parsed form of a CloudFront XML body, shared by the shape tables and the XML reader/writer.
export type XmlValue = string | number | boolean | XmlNode | XmlValue[]
export interface XmlNode {
  [name: string]: XmlValue | undefined
}
