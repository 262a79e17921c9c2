// Parsers for the network tools' outputs: structured data for the doctor.
export { ipv4InCidr, parseIpv4Cidr, type Ipv4Cidr, type JsonObject, type ParseProblem } from './common';
export * from './iptables';
export * from './ip';
export * from './bridge';
export * from './ss';
export * from './conntrack';
export * from './ipvsadm';
